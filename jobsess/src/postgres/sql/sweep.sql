-- Deletes at most a batch of expired jobs and expired claims; a sweeper
-- runs it until a batch comes back short. Rows another transaction holds
-- are left to the next round. Watchers learn of an expiry by their own
-- reads, at the TTL.
-- $1 the batch size.
-- Reply: (jobs deleted, claims deleted).
WITH jobs AS (
    DELETE FROM {jobs}
    WHERE (owner, prefix, id) IN (
        SELECT owner, prefix, id FROM {jobs}
        WHERE expires_at <= statement_timestamp()
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
    RETURNING 1
), claims AS (
    DELETE FROM {claims}
    WHERE claim IN (
        SELECT claim FROM {claims}
        WHERE expires_at <= statement_timestamp()
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
    RETURNING 1
)
SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM claims)
