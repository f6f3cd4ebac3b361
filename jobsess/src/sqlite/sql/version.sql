-- The version member of a live job: what a refused whole write names.
-- ?1 owner, ?2 prefix, ?3 id.
-- Reply: no row (no live job), or (version JSON text, NULL if none).
SELECT data -> '$."jobsess:version"'
FROM {jobs}
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
