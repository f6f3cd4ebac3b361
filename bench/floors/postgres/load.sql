-- The floor of the whole job: the least statement that does its work
-- on the store's own table, beside jobsess's `get.sql`.
SELECT data
FROM jobsess_bench.jobs
WHERE owner = $1
AND prefix = $2
AND id = $3
AND (expires_at IS NULL OR expires_at > statement_timestamp())
