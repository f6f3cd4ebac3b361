-- The floor of the write of an update, only at the revision read: the least statement that does its work
-- on the store's own table, beside jobsess's `update.sql`.
UPDATE jobsess_bench.jobs
SET data = $4, revision = nextval('jobsess_bench.jobs_revision'), expires_at = statement_timestamp() + make_interval(secs => $5::float8)
WHERE owner = $1
AND prefix = $2
AND id = $3
AND revision = $6
