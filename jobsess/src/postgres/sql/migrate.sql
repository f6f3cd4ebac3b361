-- Creates the store's schema, its jobs table and its claims table, and
-- their indexes, if they are not there yet, and adds the columns an
-- earlier version's table lacks: safe to run on every start, by several
-- instances at once (an advisory lock makes them take turns). It never
-- drops or rewrites anything.
--
-- {schema}, {jobs}, {revisions}, {claims}, {expiry_index},
-- {claims_expiry_index} and {lock} are the configured names, quoted, put in once when the store is
-- built; nothing here comes from a request.
BEGIN;
SELECT pg_advisory_xact_lock({lock});
CREATE SCHEMA IF NOT EXISTS {schema};
-- One row per job: its owner's token, its prefix and id (the session key
-- `prefix_id` the handle makes; the primary key serves a listing of one
-- owner's jobs of one prefix), one JSON member per field (the version member
-- included), a revision (new on each write), when it expires
-- (NULL: never), until when some process watches it (writes NOTIFY only
-- before that time), and whether the last whole write replaced a live job
-- (what that write answers).
-- Revisions come from one sequence, so a job removed and made again
-- never goes back to a revision its watchers saw.
CREATE SEQUENCE IF NOT EXISTS {revisions};
CREATE TABLE IF NOT EXISTS {jobs} (
    owner text NOT NULL,
    prefix text NOT NULL,
    id text NOT NULL,
    data jsonb NOT NULL,
    revision bigint NOT NULL,
    expires_at timestamptz,
    watched_until timestamptz,
    replaced_live boolean NOT NULL DEFAULT false,
    PRIMARY KEY (owner, prefix, id)
);
-- what a table made by an earlier version of this file lacks
ALTER TABLE {jobs} ADD COLUMN IF NOT EXISTS replaced_live boolean NOT NULL DEFAULT false;
-- the sweep deletes expired rows through it
CREATE INDEX IF NOT EXISTS {expiry_index} ON {jobs} (expires_at)
    WHERE expires_at IS NOT NULL;
-- Concurrent first requests of a session agree on one owner token here.
CREATE TABLE IF NOT EXISTS {claims} (
    claim text PRIMARY KEY,
    token text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {claims_expiry_index} ON {claims} (expires_at);
COMMIT;
