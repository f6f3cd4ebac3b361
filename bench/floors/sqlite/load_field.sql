-- The floor of one field: the least statement that does its work
-- on the store's own table, beside jobsess's `get_field.sql`.
SELECT data -> ?4
FROM jobsess_jobs
WHERE owner = ?1
AND prefix = ?2
AND id = ?3
AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
