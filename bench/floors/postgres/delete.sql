-- The floor of a removal: the least statement that does its work
-- on the store's own table, beside jobsess's `remove.sql`.
DELETE
FROM jobsess_bench.jobs
WHERE owner = $1
AND prefix = $2
AND id = $3
