-- Deletes the change log's rows older than a time; every process that
-- watches has read them long before.
-- ?1 how many seconds a row is kept.
DELETE FROM {changes} WHERE at < unixepoch('subsec') - ?1
