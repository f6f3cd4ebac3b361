-- Replaces the whole job, or creates it; renews its expiry; raises its
-- revision; with a version, not over a live job of a newer version.
-- $1 owner, $2 prefix, $3 id, $4 data (jsonb), $5 TTL in seconds (0: none),
-- $6 seconds left before the client gives up (the write is refused after),
-- $7 the NOTIFY channel, $8 the metadata's version (NULL: unversioned).
-- Reply: one row (live: whether a live job was there; found: its version
-- member; revision: the new revision, NULL if nothing was written).
WITH old AS (
    SELECT data -> 'jobsess:version' AS version,
           (expires_at IS NULL OR expires_at > statement_timestamp()) AS live
    FROM {jobs}
    WHERE owner = $1 AND prefix = $2 AND id = $3
), written AS (
    INSERT INTO {jobs} AS j (owner, prefix, id, data, revision, expires_at)
    SELECT $1, $2, $3, $4::jsonb, nextval('{revisions}'),
           CASE WHEN $5::float8 > 0
                THEN statement_timestamp() + make_interval(secs => $5::float8) END
    WHERE clock_timestamp() < statement_timestamp() + make_interval(secs => $6::float8)
    ON CONFLICT (owner, prefix, id) DO UPDATE
        SET data = EXCLUDED.data, revision = nextval('{revisions}'), expires_at = EXCLUDED.expires_at
        WHERE clock_timestamp() < statement_timestamp() + make_interval(secs => $6::float8)
          AND ($8::bigint IS NULL
               OR j.expires_at <= statement_timestamp()
               OR jsonb_typeof(j.data -> 'jobsess:version') IS DISTINCT FROM 'number'
               OR (j.data ->> 'jobsess:version')::numeric <= $8::bigint)
    RETURNING CASE WHEN clock_timestamp() < statement_timestamp() + make_interval(secs => $6::float8)
                   THEN j.revision
                   -- a write that waited (on a lock) past its deadline: its
                   -- client gave up on it, so it is undone, with this error
                   ELSE ('jobsess: past the deadline of the write, at ' || clock_timestamp())::bigint END AS revision, j.watched_until
)
SELECT (SELECT live FROM old) AS live,
       (SELECT version FROM old) AS found,
       written.revision,
       (CASE WHEN written.watched_until > statement_timestamp() THEN
            pg_notify($7, encode(sha256(convert_to($1 || '/' || $2 || '_' || $3, 'UTF8')), 'hex')
                          || ' ' || written.revision || ' *')
        END) IS NOT NULL AS notified
FROM (SELECT 1) AS one LEFT JOIN written ON true
