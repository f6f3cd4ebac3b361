-- The owner token of a session: the first of concurrent claims sets it,
-- every later one gets it back (writes take turns in SQLite); an expired
-- claim is taken over.
-- ?1 the claim (a digest of the session's id or cookie), ?2 the fresh
-- token, ?3 how many seconds the claim lasts.
-- Reply: (token).
INSERT INTO {claims} AS c (claim, token, expires_at)
VALUES (?1, ?2, unixepoch('subsec') + ?3)
ON CONFLICT (claim) DO UPDATE
    SET token = CASE WHEN c.expires_at > unixepoch('subsec') THEN c.token ELSE excluded.token END,
        expires_at = CASE WHEN c.expires_at > unixepoch('subsec') THEN c.expires_at ELSE excluded.expires_at END
RETURNING token
