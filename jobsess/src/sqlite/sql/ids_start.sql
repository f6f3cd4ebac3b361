-- The keys of an owner's live jobs that start with any text.
-- ?1 owner, ?2 the start of the keys.
-- Reply: one row per job (its key, `prefix_id`).
SELECT prefix || '_' || id
FROM {jobs}
WHERE owner = ?1 AND substr(prefix || '_' || id, 1, length(?2)) = ?2
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
