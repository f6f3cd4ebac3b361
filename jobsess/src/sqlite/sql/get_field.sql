-- The member of one field of a live job and its version member, not the
-- whole job; a job that is no JSON object is returned whole, for the
-- handle to say what it is.
-- ?1 owner, ?2 prefix, ?3 id, ?4 the field's JSON path (`$."name"`).
-- Reply: no row (no job), or (field, version, whole: JSON text or NULL each).
SELECT data -> ?4,
       data -> '$."jobsess:version"',
       CASE WHEN json_type(data) <> 'object' THEN data END
FROM {jobs}
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
