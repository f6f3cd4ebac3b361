-- Deletes at most a batch of expired jobs; a sweep runs it until a batch
-- comes back short. Watchers learn of an expiry by their own reads, at
-- the TTL.
-- ?1 the batch size.
-- Reply: one row per job deleted.
DELETE FROM {jobs}
WHERE rowid IN (SELECT rowid FROM {jobs} WHERE expires_at <= unixepoch('subsec') LIMIT ?1)
RETURNING 1
