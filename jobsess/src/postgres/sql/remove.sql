-- Removes an owner's jobs, expired ones too, and tells their watchers:
-- one job (prefix and id), the jobs of one prefix, or those whose key
-- starts with any text.
-- $1 owner, $2 the prefix (NULL: any), $3 the id (NULL: any), $4 the start
-- of the keys (NULL: any), $5 seconds left before the client gives up,
-- $6 the NOTIFY channel.
-- Reply: one row (removed: how many live jobs were removed, notified).
WITH gone AS (
    DELETE FROM {jobs}
    WHERE owner = $1
      AND ($2::text IS NULL OR prefix = $2)
      AND ($3::text IS NULL OR id = $3)
      AND ($4::text IS NULL OR starts_with(prefix || '_' || id, $4))
      AND clock_timestamp() < statement_timestamp() + make_interval(secs => $5::float8)
    RETURNING prefix, id, CASE WHEN clock_timestamp() < statement_timestamp() + make_interval(secs => $5::float8)
                   THEN revision
                   -- a write that waited (on a lock) past its deadline: its
                   -- client gave up on it, so it is undone, with this error
                   ELSE ('jobsess: past the deadline of the write, at ' || clock_timestamp())::bigint END AS revision,
              watched_until,
              (expires_at IS NULL OR expires_at > statement_timestamp()) AS live
)
SELECT count(*) FILTER (WHERE live) AS removed,
       count(*) FILTER (
           WHERE (CASE WHEN watched_until > statement_timestamp() THEN
                      pg_notify($6, encode(sha256(convert_to($1 || '/' || prefix || '_' || id, 'UTF8')), 'hex')
                                    || ' ' || revision || ' -')
                  END) IS NOT NULL
       ) AS notified
FROM gone
