-- Deletes at most a batch of expired claims.
-- ?1 the batch size.
-- Reply: one row per claim deleted.
DELETE FROM {claims}
WHERE rowid IN (SELECT rowid FROM {claims} WHERE expires_at <= unixepoch('subsec') LIMIT ?1)
RETURNING 1
