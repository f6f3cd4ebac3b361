-- The keys of an owner's live jobs of one prefix: the handle's listing,
-- served by the primary key.
-- ?1 owner, ?2 the prefix.
-- Reply: one row per job (its key, `prefix_id`).
SELECT prefix || '_' || id
FROM {jobs}
WHERE owner = ?1 AND prefix = ?2
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
