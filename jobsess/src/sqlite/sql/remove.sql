-- Removes one job of an owner, expired ones too (a trigger tells its
-- watchers).
-- ?1 owner, ?2 prefix, ?3 id, ?4 the write's deadline (unix seconds).
-- Reply: one row per job removed (live: whether it had not expired).
DELETE FROM {jobs}
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND unixepoch('subsec') < ?4
RETURNING (expires_at IS NULL OR expires_at > unixepoch('subsec')) AS live
