-- The floor of a field write: the least statement that does its work
-- on the store's own table, beside jobsess's `set_field.sql`.
UPDATE jobsess_jobs
SET data = json_set(data, ?4, json(?5)), revision = (SELECT revision
FROM jobsess_jobs_revision
WHERE one = 0) + 1, expires_at = unixepoch('subsec') + ?6
WHERE owner = ?1
AND prefix = ?2
AND id = ?3
AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
