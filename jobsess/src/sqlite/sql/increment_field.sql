-- Adds to a whole-number field of a live job in one step, renews the
-- expiry, gives it a new revision.
-- ?1 owner, ?2 prefix, ?3 id, ?4 the field's JSON path (`$."name"`),
-- ?5 what to add, ?6 the least and ?7 the greatest sum the field's type
-- holds, ?8 what an absent field counts as (NULL: no value), ?9 TTL in
-- seconds (0: none), ?10 the write's deadline (unix seconds).
-- Reply: no row (nothing written: no live job; or one whose field is
-- absent with nothing to count as, no whole number, out of the type's
-- range, or whose sum is out of it, where the caller reads, adds and
-- writes instead; or past the deadline), or (revision, the new value).
-- A sum past the range of a 64-bit integer is a real in SQLite, which
-- the range check refuses; so is a JSON integer past it (SQLite reads it
-- as a real), and a missing value is NULL, which no range holds.
UPDATE {jobs}
SET data = json_set(data, ?4,
        (CASE WHEN json_type(data, ?4) IS NULL THEN ?8
              WHEN json_type(data, ?4) = 'integer' THEN json_extract(data, ?4) END) + ?5),
    revision = (SELECT revision FROM {revisions} WHERE one = 0) + 1,
    expires_at = CASE WHEN ?9 > 0 THEN unixepoch('subsec') + ?9 ELSE expires_at END
WHERE owner = ?1 AND prefix = ?2 AND id = ?3
  AND (expires_at IS NULL OR expires_at > unixepoch('subsec'))
  AND json_type(data) = 'object'
  AND unixepoch('subsec') < ?10
  AND (CASE WHEN json_type(data, ?4) IS NULL THEN ?8
            WHEN json_type(data, ?4) = 'integer' THEN json_extract(data, ?4) END) BETWEEN ?6 AND ?7
  AND (CASE WHEN json_type(data, ?4) IS NULL THEN ?8
            WHEN json_type(data, ?4) = 'integer' THEN json_extract(data, ?4) END) + ?5 BETWEEN ?6 AND ?7
RETURNING revision, json_extract(data, ?4) AS value
