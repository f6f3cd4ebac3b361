-- The whole job and its revision, unless it expired.
-- ?1 owner, ?2 prefix, ?3 id.
-- Reply: no row (no job), or (data text, revision integer).
SELECT data, revision
FROM {jobs}
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
