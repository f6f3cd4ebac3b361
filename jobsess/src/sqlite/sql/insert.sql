-- Replaces the whole job, or creates it; renews its expiry; gives it a
-- new revision; with a version, not over a live job of a newer version.
-- ?1 owner, ?2 prefix, ?3 id, ?4 data (JSON text), ?5 TTL in seconds
-- (0: none), ?6 the write's deadline (unix seconds), ?7 the metadata's
-- version (NULL: unversioned).
-- Reply: no row (refused: a newer version is there; or past the
-- deadline), or (live: whether a live job was there).
-- The deadline is checked once the write holds the database's write lock:
-- a write that waited on a lock past the time its client gave up on it
-- writes nothing.
INSERT INTO {jobs} AS j (owner, prefix, id, data, revision, expires_at, replaced_live)
SELECT ?1, ?2, ?3, ?4, (SELECT revision FROM {revisions} WHERE one = 0) + 1,
       CASE WHEN ?5 > 0 THEN unixepoch('subsec') + ?5 END,
       0
WHERE unixepoch('subsec') < ?6
ON CONFLICT (owner, prefix, id) DO UPDATE
    SET data = excluded.data, revision = excluded.revision, expires_at = excluded.expires_at,
        -- what the write replaced, for its reply: no second read of the row
        replaced_live = (j.expires_at IS NULL OR j.expires_at > unixepoch('subsec'))
    WHERE ?7 IS NULL
       OR j.expires_at <= unixepoch('subsec')
       OR coalesce(json_type(j.data, '$."jobsess:version"'), '') NOT IN ('integer', 'real')
       OR json_extract(j.data, '$."jobsess:version"') <= ?7
RETURNING replaced_live AS live
