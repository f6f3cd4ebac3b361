-- Replaces a live job if its revision is still the one read: the write
-- step of an optimistic update.
-- $1 owner, $2 prefix, $3 id, $4 data (jsonb), $5 TTL in seconds (0: none),
-- $6 the time left before the client gives up (interval), $7 the NOTIFY
-- channel, $8 the revision read.
-- Reply: no row (another write came first, or the job is gone), or
-- (revision, notified). NOTIFY and the deadline check are in RETURNING.
-- The RETURNING check undoes a write that ran past its deadline (it waited
-- on a lock, say): its client gave up on it, so the statement fails.
UPDATE {jobs}
SET data = $4::jsonb,
    revision = nextval('{revisions}'),
    expires_at = CASE WHEN $5::float8 > 0
                      THEN statement_timestamp() + make_interval(secs => $5::float8)
                      ELSE expires_at END
WHERE owner = $1 AND prefix = $2 AND id = $3 AND revision = $8
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
RETURNING CASE WHEN clock_timestamp() - statement_timestamp() < $6::interval THEN revision
               ELSE ('jobsess: past the deadline of the write, at ' || clock_timestamp())::bigint
          END AS revision,
          (CASE WHEN watched_until > statement_timestamp() THEN
               pg_notify($7, encode(sha256(convert_to($1 || '/' || $2 || '_' || $3, 'UTF8')), 'hex')
                             || ' ' || revision || ' *')
           END) IS NOT NULL AS notified
