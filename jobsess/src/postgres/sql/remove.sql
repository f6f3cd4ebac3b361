-- Removes one job of an owner, expired ones too, and tells their watchers.
-- $1 owner, $2 prefix, $3 id, $4 the time left before the client gives up
-- (interval), $5 the NOTIFY channel.
-- Reply: one row, `live`: how many of the removed jobs had not expired.
-- The client reads that one row, not a row per job. The deadline is
-- checked once, after the last row is removed (the count has read them
-- all): a removal that ran past it (it waited on a lock, say) fails, and
-- is undone with its NOTIFYs, since its client gave up on it.
WITH removed AS (
  DELETE FROM {jobs}
  WHERE owner = $1 AND prefix = $2 AND id = $3
  RETURNING prefix, id, revision,
            (expires_at IS NULL OR expires_at > statement_timestamp()) AS live,
            watched_until > statement_timestamp() AS watched
)
SELECT CASE WHEN clock_timestamp() - statement_timestamp() < $4::interval
            THEN count(*) FILTER (WHERE live)
            ELSE ('jobsess: past the deadline of the removal, at ' || clock_timestamp())::bigint
       END AS live,
       count(CASE WHEN watched THEN
               pg_notify($5, encode(sha256(convert_to($1 || '/' || prefix || '_' || id, 'UTF8')), 'hex')
                             || ' ' || revision || ' -')
             END) AS notified
FROM removed
