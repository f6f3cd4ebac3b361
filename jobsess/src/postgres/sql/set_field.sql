-- Writes one field of a live job (or removes it), removes the field's
-- aliases, renews the expiry, gives it a new revision; never creates a
-- job. `||` and `-`, not jsonb_set, which gives NULL for a NULL value.
-- $1 owner, $2 prefix, $3 id, $4 the field, $5 its JSON (jsonb; NULL: remove
-- the field), $6 the aliases (text[]), $7 TTL in seconds (0: none),
-- $8 the time left before the client gives up (interval), $9 the NOTIFY
-- channel.
-- Reply: no row (nothing written: no live job, or no object), or
-- (revision, notified). NOTIFY and the deadline check are in RETURNING,
-- so the write and its message are one statement with no CTE around it.
-- The RETURNING check undoes a write that ran past its deadline (it waited
-- on a lock, say): its client gave up on it, so the statement fails.
UPDATE {jobs}
SET data = CASE WHEN $5::jsonb IS NULL THEN (data - $6::text[]) - $4::text
                ELSE (data - $6::text[]) || jsonb_build_object($4::text, $5::jsonb) END,
    revision = nextval('{revisions}'),
    expires_at = CASE WHEN $7::float8 > 0
                      THEN statement_timestamp() + make_interval(secs => $7::float8)
                      ELSE expires_at END
WHERE owner = $1 AND prefix = $2 AND id = $3
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
  AND jsonb_typeof(data) = 'object'
RETURNING CASE WHEN clock_timestamp() - statement_timestamp() < $8::interval THEN revision
               ELSE ('jobsess: past the deadline of the write, at ' || clock_timestamp())::bigint
          END AS revision,
          (CASE WHEN watched_until > statement_timestamp() THEN
               pg_notify($9, encode(sha256(convert_to($1 || '/' || $2 || '_' || $3, 'UTF8')), 'hex')
                             || ' ' || revision || ' ' || left($4, 200))
           END) IS NOT NULL AS notified
