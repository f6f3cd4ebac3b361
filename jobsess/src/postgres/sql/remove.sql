-- Removes one job of an owner, expired ones too, and tells their watchers.
-- $1 owner, $2 prefix, $3 id, $4 the time left before the client gives up
-- (interval), $5 the NOTIFY channel.
-- Reply: one row (removed: how many live jobs were removed, notified).
-- The RETURNING check undoes a removal that ran past its deadline (it
-- waited on a lock, say): its client gave up on it, so the statement fails.
WITH gone AS (
    DELETE FROM {jobs}
    WHERE owner = $1 AND prefix = $2 AND id = $3
    RETURNING prefix, id,
              CASE WHEN clock_timestamp() - statement_timestamp() < $4::interval THEN revision
                   ELSE ('jobsess: past the deadline of the removal, at ' || clock_timestamp())::bigint
              END AS revision,
              watched_until,
              (expires_at IS NULL OR expires_at > statement_timestamp()) AS live
)
SELECT count(*) FILTER (WHERE live) AS removed,
       count(*) FILTER (
           WHERE (CASE WHEN watched_until > statement_timestamp() THEN
                      pg_notify($5, encode(sha256(convert_to($1 || '/' || prefix || '_' || id, 'UTF8')), 'hex')
                                    || ' ' || revision || ' -')
                  END) IS NOT NULL
       ) AS notified
FROM gone
