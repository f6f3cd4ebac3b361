-- Writes one field of a live job (or removes it), renews the expiry,
-- gives it a new revision; never creates a job. The field is addressed by
-- its JSON path, so the rest of the job is not read into the app.
-- ?1 owner, ?2 prefix, ?3 id, ?4 the field's JSON path (`$."name"`),
-- ?5 its JSON text (NULL: remove the field), ?6 TTL in seconds (0: none),
-- ?7 the write's deadline (unix seconds).
-- Reply: no row (nothing written: no live job, no object, or past the
-- deadline), or (revision).
UPDATE {jobs}
SET data = CASE WHEN ?5 IS NULL THEN json_remove(data, ?4)
                ELSE json_set(data, ?4, json(?5)) END,
    revision = (SELECT revision FROM {revisions} WHERE one = 0) + 1,
    expires_at = CASE WHEN ?6 > 0 THEN unixepoch('subsec') + ?6 ELSE expires_at END
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
  AND json_type(data) = 'object'
  AND unixepoch('subsec') < ?7
RETURNING revision
