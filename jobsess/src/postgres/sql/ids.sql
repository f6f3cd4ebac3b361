-- The keys of an owner's live jobs: of one prefix (the handle's listing,
-- served by the primary key), or starting with any text.
-- $1 owner, $2 the prefix (NULL: any), $3 the start of the keys (NULL:
-- any).
-- Reply: one row per job (its key, `prefix_id`).
SELECT prefix || '_' || id
FROM {jobs}
WHERE owner = $1
  AND ($2::text IS NULL OR prefix = $2)
  AND ($3::text IS NULL OR starts_with(prefix || '_' || id, $3))
  AND (expires_at IS NULL OR expires_at > statement_timestamp())
