-- Replaces the whole job, or creates it; renews its expiry; gives it a
-- new revision; with a version, not over a live job of a newer version.
-- $1 owner, $2 prefix, $3 id, $4 data (jsonb), $5 TTL in seconds (0: none),
-- $6 the time left before the client gives up (interval), $7 the NOTIFY
-- channel, $8 the metadata's version (NULL: unversioned).
-- Reply: no row (refused: a newer version is there), or (live: whether a
-- live job was there, revision, notified). NOTIFY and the deadline check
-- are in RETURNING: the write and its message are one statement.
-- The RETURNING check undoes a write that ran past its deadline (it waited
-- on a lock, say): its client gave up on it, so the statement fails.
INSERT INTO {jobs} AS j (owner, prefix, id, data, revision, expires_at, replaced_live)
VALUES ($1, $2, $3, $4::jsonb, nextval('{revisions}'),
        CASE WHEN $5::float8 > 0
             THEN statement_timestamp() + make_interval(secs => $5::float8) END,
        false)
ON CONFLICT (owner, prefix, id) DO UPDATE
    SET data = EXCLUDED.data, revision = EXCLUDED.revision, expires_at = EXCLUDED.expires_at,
        -- what the write replaced, for its reply: no second read of the row
        replaced_live = (j.expires_at IS NULL OR j.expires_at > statement_timestamp())
    WHERE $8::bigint IS NULL
       OR j.expires_at <= statement_timestamp()
       OR jsonb_typeof(j.data -> 'jobsess:version') IS DISTINCT FROM 'number'
       OR (j.data ->> 'jobsess:version')::numeric <= $8::bigint
RETURNING j.replaced_live AS live,
          CASE WHEN clock_timestamp() - statement_timestamp() < $6::interval THEN j.revision
               ELSE ('jobsess: past the deadline of the write, at ' || clock_timestamp())::bigint
          END AS revision,
          (CASE WHEN j.watched_until > statement_timestamp() THEN
               pg_notify($7, encode(sha256(convert_to($1 || '/' || $2 || '_' || $3, 'UTF8')), 'hex')
                             || ' ' || j.revision || ' *')
           END) IS NOT NULL AS notified
