-- The members of a job that a read of a field with aliases needs (the
-- field, its aliases, the version member), not the whole row; a job that
-- is no JSON object is returned whole, for the handle to say what it is.
-- $1 owner, $2 prefix, $3 id, $4 the members (text[]).
-- Reply: no row (no job), or (picked jsonb).
SELECT CASE WHEN jsonb_typeof(data) = 'object' THEN
           coalesce((SELECT jsonb_object_agg(member, data -> member)
                     FROM unnest($4::text[]) AS member
                     WHERE data ? member), '{}'::jsonb)
       ELSE data END
FROM {jobs}
WHERE owner = $1 AND prefix = $2 AND id = $3
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
