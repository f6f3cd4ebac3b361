-- The floor of `increment_field` on SQLite: the least statement that adds
-- to an integer field of a live job, with the revision and the expiry the
-- store keeps. ?1 owner, ?2 prefix, ?3 id, ?4 the field's path, ?5 what
-- to add, ?6 TTL in seconds. Reply: the new value.
UPDATE jobsess_jobs
SET data = json_set(data, ?4, json_extract(data, ?4) + ?5),
    revision = (SELECT revision FROM jobsess_jobs_revision WHERE one = 0) + 1,
    expires_at = unixepoch('subsec') + ?6
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
AND json_type(data, ?4) = 'integer'
RETURNING json_extract(data, ?4)
