-- The floor of the removal of an owner's jobs of one prefix: the least statement that does its work
-- on the store's own table, beside jobsess's `remove_prefix.sql`.
DELETE
FROM jobsess_jobs
WHERE owner = ?1
AND prefix = ?2
