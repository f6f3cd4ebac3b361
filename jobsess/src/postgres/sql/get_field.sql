-- The member of one field of a live job and its version member, not the
-- whole row (a field with aliases: `get_members.sql`); a job that is no
-- JSON object is returned whole, for the handle to say what it is.
-- $1 owner, $2 prefix, $3 id, $4 the field.
-- Reply: no row (no job), or (field, version, whole: jsonb or NULL each).
SELECT data -> $4::text,
       data -> 'jobsess:version',
       CASE WHEN jsonb_typeof(data) <> 'object' THEN data END
FROM {jobs}
WHERE owner = $1 AND prefix = $2 AND id = $3
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
