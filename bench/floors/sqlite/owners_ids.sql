-- The floor of the listing: the least statement that does its work
-- on the store's own table, beside jobsess's `ids.sql`.
SELECT id
FROM jobsess_jobs
WHERE owner = ?1
AND prefix = ?2
AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
ORDER BY id
