-- The floor of a whole write: the least statement that does its work
-- on the store's own table, beside jobsess's `insert.sql`.
INSERT INTO jobsess_jobs (owner, prefix, id, data, revision, expires_at)
VALUES (?1, ?2, ?3, ?4, (SELECT revision
FROM jobsess_jobs_revision
WHERE one = 0) + 1, unixepoch('subsec') + ?5)
ON CONFLICT (owner, prefix, id) DO UPDATE
SET data = excluded.data, revision = excluded.revision, expires_at = excluded.expires_at
