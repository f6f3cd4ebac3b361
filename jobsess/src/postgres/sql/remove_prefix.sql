-- Removes the jobs of one prefix of an owner (the handle's clear(), served
-- by the primary key), expired ones too, and tells their watchers.
-- $1 owner, $2 prefix, $3 the time left before the client gives up
-- (interval), $4 the NOTIFY channel.
-- Reply: one row per job removed (live: whether it had not expired,
-- revision, notified); NOTIFY and the deadline check are in RETURNING.
-- The RETURNING check undoes a removal that ran past its deadline (it
-- waited on a lock, say): its client gave up on it, so the statement fails.
DELETE FROM {jobs}
WHERE owner = $1 AND prefix = $2
RETURNING (expires_at IS NULL OR expires_at > statement_timestamp()) AS live,
          CASE WHEN clock_timestamp() - statement_timestamp() < $3::interval THEN revision
               ELSE ('jobsess: past the deadline of the removal, at ' || clock_timestamp())::bigint
          END AS revision,
          (CASE WHEN watched_until > statement_timestamp() THEN
               pg_notify($4, encode(sha256(convert_to($1 || '/' || prefix || '_' || id, 'UTF8')), 'hex')
                             || ' ' || revision || ' -')
           END) IS NOT NULL AS notified
