-- An owner's live jobs of one prefix with their data: the handle's
-- `entries()`, in one statement, served by the primary key.
-- $1 owner, $2 the prefix.
-- Reply: one row per job (its key, `prefix_id`; its data jsonb).
SELECT prefix || '_' || id, data
FROM {jobs}
WHERE owner = $1 AND prefix = $2
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
