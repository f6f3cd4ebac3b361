-- Removes the jobs of one prefix of an owner (the handle's clear(), served
-- by the primary key), expired ones too.
-- ?1 owner, ?2 prefix, ?3 the write's deadline (unix seconds).
-- Reply: one row per job removed (live: whether it had not expired).
DELETE FROM {jobs}
WHERE owner = ?1 AND prefix = ?2
  AND unixepoch('subsec') < ?3
RETURNING (expires_at IS NULL OR expires_at > unixepoch('subsec')) AS live
