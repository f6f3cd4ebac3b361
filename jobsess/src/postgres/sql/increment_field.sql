-- Adds to a whole-number field of a live job in one statement: the field
-- read, added to, range-checked and written with a new revision, the
-- expiry renewed, watchers told, as set_field writes a field.
-- $1 owner, $2 prefix, $3 id, $4 the field, $5 what to add (bigint),
-- $6 and $7 the least and the greatest sum the field's type holds
-- (bigint), $8 what an absent field counts as (text of a bigint; NULL:
-- nothing), $9 the aliases (text[]), $10 TTL in seconds (0: none), $11 the
-- time left before the client gives up (interval), $12 the NOTIFY channel.
-- Reply: no row (nothing written: no live job; or one whose field is under
-- an alias, absent with nothing to count as, no whole number, out of the
-- type's range, or whose sum is out of it, where the caller reads, adds and writes instead), or
-- (revision, notified, value). The field's value as text, or $8 where it is
-- absent: NULL for a value that is not a JSON number, which no test passes.
UPDATE {jobs}
SET data = data || jsonb_build_object($4::text,
        (CASE WHEN data ? $4::text
              THEN CASE WHEN jsonb_typeof(data -> $4::text) = 'number' THEN data ->> $4::text END
              ELSE $8::text END)::numeric + $5::bigint),
    revision = nextval('{revisions}'),
    expires_at = CASE WHEN $10::float8 > 0
                      THEN statement_timestamp() + make_interval(secs => $10::float8)
                      ELSE expires_at END
WHERE owner = $1 AND prefix = $2 AND id = $3
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
  AND jsonb_typeof(data) = 'object'
  AND NOT (data ?| $9::text[])
  AND (CASE WHEN data ? $4::text
            THEN CASE WHEN jsonb_typeof(data -> $4::text) = 'number' THEN data ->> $4::text END
            ELSE $8::text END) ~ '^-?[0-9]{1,18}$'
  AND (CASE WHEN data ? $4::text
            THEN CASE WHEN jsonb_typeof(data -> $4::text) = 'number' THEN data ->> $4::text END
            ELSE $8::text END)::numeric BETWEEN $6::bigint AND $7::bigint
  AND (CASE WHEN data ? $4::text
            THEN CASE WHEN jsonb_typeof(data -> $4::text) = 'number' THEN data ->> $4::text END
            ELSE $8::text END)::numeric + $5::bigint BETWEEN $6::bigint AND $7::bigint
RETURNING CASE WHEN clock_timestamp() - statement_timestamp() < $11::interval THEN revision
               ELSE ('jobsess: past the deadline of the write, at ' || clock_timestamp())::bigint
          END AS revision,
          (CASE WHEN watched_until > statement_timestamp() THEN
               pg_notify($12, encode(sha256(convert_to($1 || '/' || $2 || '_' || $3, 'UTF8')), 'hex')
                             || ' ' || revision || ' ' || left($4, 200))
           END) IS NOT NULL AS notified,
          (data ->> $4::text)::bigint AS value
