-- Replaces a live job if its revision is still the one read: the write
-- step of an optimistic update.
-- ?1 owner, ?2 prefix, ?3 id, ?4 data (JSON text), ?5 TTL in seconds
-- (0: none), ?6 the write's deadline (unix seconds), ?7 the revision read.
-- Reply: no row (another write came first, the job is gone, or past the
-- deadline), or (revision).
UPDATE {jobs}
SET data = ?4,
    revision = (SELECT revision FROM {revisions} WHERE one = 0) + 1,
    expires_at = CASE WHEN ?5 > 0 THEN unixepoch('subsec') + ?5 ELSE expires_at END
WHERE owner = ?1 AND prefix = ?2 AND id = ?3 AND revision = ?7
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
  AND unixepoch('subsec') < ?6
RETURNING revision
