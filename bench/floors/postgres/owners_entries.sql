-- The floor of the listing with the data, each job decoded by the
-- caller: the least statement that does its work on the store's own
-- table, beside jobsess's `entries.sql`.
SELECT id, data
FROM jobsess_bench_owners.jobs
WHERE owner = $1
AND prefix = $2
AND (expires_at IS NULL OR expires_at > statement_timestamp())
ORDER BY id
