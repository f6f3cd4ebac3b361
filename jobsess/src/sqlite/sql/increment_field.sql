-- Adds to a whole-number field of a live job in one step, renews the
-- expiry, gives it a new revision.
-- ?1 owner, ?2 prefix, ?3 id, ?4 the field's JSON path (`$."name"`),
-- ?5 what to add, ?6 and ?7 the least and greatest value the field may
-- have for its sum to stay in the type's range (the caller works them
-- out from the range and ?5), ?8 what an absent field counts as (NULL: no
-- value), ?9 TTL in seconds (0: none), ?10 the write's deadline (unix
-- seconds).
-- Reply: no row (nothing written: no live job; or one whose field is
-- absent with nothing to count as, no whole number, or out of ?6..?7,
-- where the caller reads, adds and writes instead; or past the deadline),
-- or (revision, the new value).
-- The field's value is worked out twice (once to check, once to write),
-- with one JSON path lookup for its type and one for its value; a JSON
-- integer past 64 bits is a real in SQLite, and a missing value NULL,
-- which the range check refuses.
UPDATE {jobs}
SET data = json_set(data, ?4,
        CASE coalesce(json_type(data, ?4), '')
            WHEN 'integer' THEN json_extract(data, ?4) WHEN '' THEN ?8 END + ?5),
    revision = (SELECT revision FROM {revisions} WHERE one = 0) + 1,
    expires_at = CASE WHEN ?9 > 0 THEN unixepoch('subsec') + ?9 ELSE expires_at END
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
  AND json_type(data) = 'object'
  AND unixepoch('subsec') < ?10
  AND CASE coalesce(json_type(data, ?4), '')
          WHEN 'integer' THEN json_extract(data, ?4) WHEN '' THEN ?8 END BETWEEN ?6 AND ?7
RETURNING revision, json_extract(data, ?4) AS value
