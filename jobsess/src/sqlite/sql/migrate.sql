-- Creates the store's tables, indexes and triggers if they are not there
-- yet: safe to run on every start, by several processes at once (BEGIN
-- IMMEDIATE makes them take turns). It never drops or rewrites anything.
--
-- {jobs}, {claims}, {changes}, {revisions}, the index and trigger names are
-- the configured table's names, quoted, put in once when the store is
-- built; nothing here comes from a request.
BEGIN IMMEDIATE;
-- One row per job: its owner's token, its prefix and id (the session key
-- `prefix_id` the handle makes; the primary key serves a listing of one
-- owner's jobs of one prefix), its fields as one JSON object (the version
-- member included), a revision (new on each write), when it expires
-- (unix seconds; NULL: never), until when some process watches it (writes
-- log a change only before that time), and whether the last whole write
-- replaced a live job (what that write answers). Times are unix seconds
-- with fractions, on the clock of the machine that holds the file.
CREATE TABLE IF NOT EXISTS {jobs} (
    owner TEXT NOT NULL,
    prefix TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    revision INTEGER NOT NULL,
    expires_at REAL,
    watched_until REAL,
    replaced_live INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, prefix, id)
);
-- the sweep deletes expired rows through it
CREATE INDEX IF NOT EXISTS {expiry_index} ON {jobs} (expires_at)
    WHERE expires_at IS NOT NULL;
-- The last revision given: revisions never go back, so a job removed and
-- made again never returns to a revision its watchers saw. A write takes
-- this plus one, and the triggers below store it.
CREATE TABLE IF NOT EXISTS {revisions} (
    one INTEGER PRIMARY KEY CHECK (one = 0),
    revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO {revisions} (one, revision) VALUES (0, 0);
CREATE TRIGGER IF NOT EXISTS {created} AFTER INSERT ON {jobs}
BEGIN
    UPDATE {revisions} SET revision = NEW.revision WHERE one = 0 AND revision < NEW.revision;
END;
CREATE TRIGGER IF NOT EXISTS {revised} AFTER UPDATE OF revision ON {jobs}
BEGIN
    UPDATE {revisions} SET revision = NEW.revision WHERE one = 0 AND revision < NEW.revision;
END;
-- The change log of watched jobs, which every process that watches reads
-- (a poll of `PRAGMA data_version` tells it when to): one row per write to
-- a job someone watches (its topic `owner/prefix_id` and new revision),
-- or per removal (revision NULL). A job nobody watches logs nothing.
-- The watchers' processes delete rows older than a minute.
CREATE TABLE IF NOT EXISTS {changes} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    revision INTEGER,
    at REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS {changed} AFTER UPDATE OF revision ON {jobs}
WHEN NEW.watched_until > unixepoch('subsec')
BEGIN
    INSERT INTO {changes} (topic, revision, at)
    VALUES (NEW.owner || '/' || NEW.prefix || '_' || NEW.id, NEW.revision, unixepoch('subsec'));
END;
CREATE TRIGGER IF NOT EXISTS {removed} AFTER DELETE ON {jobs}
WHEN OLD.watched_until > unixepoch('subsec')
BEGIN
    INSERT INTO {changes} (topic, revision, at)
    VALUES (OLD.owner || '/' || OLD.prefix || '_' || OLD.id, NULL, unixepoch('subsec'));
END;
-- Concurrent first requests of a session agree on one owner token here.
CREATE TABLE IF NOT EXISTS {claims} (
    claim TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS {claims_expiry_index} ON {claims} (expires_at);
COMMIT;
