-- The floor of the read of an update, with the revision: the least statement that does its work
-- on the store's own table, beside jobsess's `get.sql (the read of an update)`.
SELECT data, revision
FROM jobsess_jobs
WHERE owner = ?1
AND prefix = ?2
AND id = ?3
AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
