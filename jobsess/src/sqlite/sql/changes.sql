-- The change log's rows after the last one this process read, oldest
-- first, in batches.
-- ?1 the last row read (0: none), ?2 the batch size.
-- Reply: one row per change (seq, topic `owner/prefix_id`, revision or
-- NULL for a removal).
SELECT seq, topic, revision
FROM {changes}
WHERE seq > ?1
ORDER BY seq
LIMIT ?2
