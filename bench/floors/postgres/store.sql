-- The floor of a whole write: the least statement that does its work
-- on the store's own table, beside jobsess's `insert.sql`.
INSERT INTO jobsess_bench.jobs AS j (owner, prefix, id, data, revision, expires_at)
VALUES ($1, $2, $3, $4, nextval('jobsess_bench.jobs_revision'), statement_timestamp() + make_interval(secs => $5::float8))
ON CONFLICT (owner, prefix, id) DO UPDATE
SET data = EXCLUDED.data, revision = EXCLUDED.revision, expires_at = EXCLUDED.expires_at
