-- An owner's live jobs whose keys start with any text, with their data.
-- ?1 owner, ?2 the start of the keys.
-- Reply: one row per job (its key, `prefix_id`; its data text).
SELECT prefix || '_' || id, data
FROM {jobs}
WHERE owner = ?1 AND substr(prefix || '_' || id, 1, length(?2)) = ?2
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
