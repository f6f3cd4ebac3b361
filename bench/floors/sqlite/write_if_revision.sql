-- The floor of the write of an update, only at the revision read: the least statement that does its work
-- on the store's own table, beside jobsess's `update.sql`.
UPDATE jobsess_jobs
SET data = ?4, revision = (SELECT revision
FROM jobsess_jobs_revision
WHERE one = 0) + 1, expires_at = unixepoch('subsec') + ?5
WHERE owner = ?1
AND prefix = ?2
AND id = ?3
AND revision = ?6
