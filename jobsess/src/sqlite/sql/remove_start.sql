-- Removes the jobs of an owner whose key (prefix_id) starts with any
-- text, after `remove_expired.sql` removed
-- the expired ones.
-- ?1 owner, ?2 the start of the keys, ?3 the write's deadline (unix seconds).
-- Reply: no rows; the count of removed rows is how many live jobs there
-- were (a row back per job would cost more than the removal). A job that
-- expires between the two statements, microseconds apart, counts as live.
DELETE FROM {jobs}
WHERE owner = ?1 AND substr(prefix || '_' || id, 1, length(?2)) = ?2
  AND unixepoch('subsec') < ?3
