-- The floor of a field write: the least statement that does its work
-- on the store's own table, beside jobsess's `set_field.sql`.
UPDATE jobsess_bench.jobs
SET data = data || jsonb_build_object($4::text, $5::jsonb), revision = nextval('jobsess_bench.jobs_revision'), expires_at = statement_timestamp() + make_interval(secs => $6::float8)
WHERE owner = $1
AND prefix = $2
AND id = $3
AND (expires_at IS NULL OR expires_at > statement_timestamp())
