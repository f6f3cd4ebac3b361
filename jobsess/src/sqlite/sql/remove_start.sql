-- Removes the jobs of an owner whose key (prefix_id) starts with any
-- text, expired ones too.
-- ?1 owner, ?2 the start of the keys, ?3 the write's deadline (unix seconds).
-- Reply: one row per job removed (live: whether it had not expired).
DELETE FROM {jobs}
WHERE owner = ?1 AND substr(prefix || '_' || id, 1, length(?2)) = ?2
  AND unixepoch('subsec') < ?3
RETURNING (expires_at IS NULL OR expires_at > unixepoch('subsec')) AS live
