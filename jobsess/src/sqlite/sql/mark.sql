-- Marks a live job as watched until a time, so that its writes log a
-- change; its revision and expiry stay as they are.
-- ?1 owner, ?2 prefix, ?3 id, ?4 for how many seconds.
-- Reply: no row (no live job), or one.
UPDATE {jobs}
SET watched_until = unixepoch('subsec') + ?4
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
RETURNING 1
