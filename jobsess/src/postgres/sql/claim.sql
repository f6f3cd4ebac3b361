-- The owner token of a session: the first of concurrent claims sets it,
-- every later one gets it back (ON CONFLICT DO UPDATE locks the row, so
-- each sees the first one's token); an expired claim is taken over.
-- $1 the claim (a digest of the session's id or cookie), $2 the fresh
-- token, $3 how many seconds the claim lasts.
-- Reply: (token).
INSERT INTO {claims} AS c (claim, token, expires_at)
VALUES ($1, $2, statement_timestamp() + make_interval(secs => $3::float8))
ON CONFLICT (claim) DO UPDATE
    SET token = CASE WHEN c.expires_at > statement_timestamp() THEN c.token ELSE EXCLUDED.token END,
        expires_at = CASE WHEN c.expires_at > statement_timestamp() THEN c.expires_at ELSE EXCLUDED.expires_at END
RETURNING token
