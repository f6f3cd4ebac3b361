-- Removes an owner's expired jobs whose key (prefix_id) starts with any
-- text: the first of clear()'s two statements (`remove_prefix.sql` or
-- `remove_start.sql` removes the live ones, and counts them).
-- ?1 owner, ?2 the start of the keys, ?3 the write's deadline (unix seconds).
-- Reply: no rows.
DELETE FROM {jobs}
WHERE owner = ?1 AND substr(prefix || '_' || id, 1, length(?2)) = ?2
  AND expires_at IS NOT NULL AND expires_at <= unixepoch('subsec')
  AND unixepoch('subsec') < ?3
