-- Removes the jobs of one prefix of an owner (the handle's clear(), served
-- by the primary key), after `remove_expired.sql` removed
-- the expired ones.
-- ?1 owner, ?2 prefix, ?3 the write's deadline (unix seconds).
-- Reply: no rows; the count of removed rows is how many live jobs there
-- were (a row back per job would cost more than the removal). A job that
-- expires between the two statements, microseconds apart, counts as live.
DELETE FROM {jobs}
WHERE owner = ?1 AND prefix = ?2
  AND unixepoch('subsec') < ?3
