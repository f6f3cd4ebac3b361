-- The change log's last row: where a process that starts watching begins.
-- Reply: (seq, 0 if the log is empty).
SELECT coalesce(max(seq), 0) FROM {changes}
