//! The server-side Redis job store (feature `redis`).
//!
//! Cookie and session-store backends keep a user's whole session in one
//! record that each request loads and saves whole, so two concurrent
//! requests that both write can lose one write. The Redis job store keeps
//! job metadata out of the session instead: the session holds only an opaque
//! owner token, and each job lives in Redis as one hash with one hash field
//! per metadata field (the field's JSON). Every operation of the handle is
//! one round trip, atomic: reads are plain commands, writes one script
//! each, loaded once and run by hash:
//!
//! - `load_field` reads one hash field (`HMGET`), `store_field` writes one
//!   (only if the job exists), so concurrent requests that change different
//!   fields, or different jobs, lose nothing;
//! - `store` replaces the whole hash, `delete` removes it;
//! - each owner has an index of its job keys, a sorted set scored by expiry,
//!   so `ids()` and `clear()` see exactly that owner's live jobs, on any
//!   number of app instances. Listing is one `ZRANGE` while no entry can
//!   have expired; when one may have, a second round trip runs a script
//!   that drops the expired entries and lists the rest on the server's
//!   clock. (With a TTL, the server's clock is read once a minute to know
//!   which entries may have expired.)
//!
//! Redis keys: `namespace:{owner}:job-key` for a job's hash and
//! `namespace:{owner}` for the owner's index (the braces are a Redis Cluster
//! hash tag: all keys of one owner live in one slot, and every script names
//! all the keys it touches). With a TTL, a job expires that long after the
//! last write to it; expired jobs are never listed, loaded or written.
//!
//! ```no_run
//! use jobsess::{AsyncJobSession, JobMetadata};
//! use jobsess::redis::{RedisJobStore, connect_pool};
//!
//! #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
//! struct ExportJob { file: String, progress: u8 }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // reconnects after a Redis restart; the same pool can serve the sessions
//! let pool = connect_pool("redis://127.0.0.1:6379", 2).await?;
//! let store = RedisJobStore::new(pool).with_ttl(std::time::Duration::from_secs(24 * 3600));
//! let owner = RedisJobStore::new_owner_token()?; // kept in the user's session
//! let jobs = AsyncJobSession::<ExportJob, _>::new(store.owner(&owner)?);
//! jobs.store("job-1", &ExportJob { file: "a.csv".into(), progress: 0 }).await?;
//! jobs.store_field("job-1", ExportJob::PROGRESS, &50).await?; // one HSET
//! # Ok(()) }
//! ```

use std::sync::Arc;

mod deadline;
mod watch;

use std::sync::LazyLock;

use fred::clients::Pool;
use fred::interfaces::{HashesInterface, KeysInterface};
use fred::types::scripts::Script;
use serde_json::{Map, Value};

use crate::async_session::{AsyncJobSession, AsyncSessionBackend};
use crate::backend::FieldWrite;
use crate::error::{Error, Op, Result};
use crate::field::FieldKeys;

/// The session key under which the owner token is kept.
///
/// ```
/// assert_eq!(jobsess::redis::OWNER_KEY, "__jobsess_owner");
/// ```
pub const OWNER_KEY: &str = "__jobsess_owner";

/// A fred pool of `size` connections to the Redis at `url`, configured as
/// [`RedisJobStore::connect`] configures its own: it reconnects forever,
/// 100 ms apart, so it serves again as soon as Redis is back after a
/// restart; a command that gets no answer within 1 s fails (a web request
/// answers 503 during an outage); a command is sent once, never again after
/// a broken connection. Use it for the app's other Redis clients too, such
/// as tower-sessions-redis-store's session store, so they recover as well.
///
/// ```no_run
/// # async fn run() -> Result<(), jobsess::Error> {
/// let pool = jobsess::redis::connect_pool("redis://127.0.0.1:6379", 2).await?;
/// let store = jobsess::redis::RedisJobStore::new(pool.clone());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::Backend`] for a bad URL or a Redis that doesn't answer, naming
/// the server's host and port, never the URL's credentials.
pub async fn connect_pool(url: &str, size: usize) -> Result<Pool> {
    use fred::interfaces::ClientLike;
    use fred::types::Builder;
    use fred::types::config::{Config, ReconnectPolicy};
    use std::time::Duration;

    let address = server_address(url);
    let failed = |err: fred::error::Error| Error::backend(Op::Read, &address, err);
    let config = Config::from_url(url).map_err(|_| {
        Error::backend(
            Op::Read,
            &address,
            "not a Redis URL (redis://[user:password@]host[:port][/db])",
        )
    })?;
    let pool = Builder::from_config(config)
        .with_performance_config(|perf| perf.default_command_timeout = Duration::from_secs(1))
        .with_connection_config(|conn| {
            conn.connection_timeout = Duration::from_secs(1);
            conn.internal_command_timeout = Duration::from_secs(1);
            conn.max_command_attempts = 1;
        })
        .set_policy(ReconnectPolicy::new_constant(0, 100))
        .build_pool(size)
        .map_err(failed)?;
    pool.init().await.map_err(failed)?;
    Ok(pool)
}

/// The `scheme://host:port` of a Redis URL, without its credentials, path
/// or query: what errors name.
fn server_address(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}")
}

/// Job metadata in Redis, for all users; [`owner`](Self::owner) gives the
/// backend of one user.
///
/// ```no_run
/// # use fred::prelude::*;
/// # async fn run(pool: Pool) -> Result<(), jobsess::Error> {
/// let store = jobsess::redis::RedisJobStore::new(pool).with_namespace("myapp-jobs");
/// let alice = store.owner("0123456789abcdef0123456789abcdef")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisJobStore {
    pool: Pool,
    namespace: Arc<str>,
    ttl_seconds: i64,
    update_attempts: u32,
    /// The subscriber connection of the watchers, made by the first one.
    hub: Arc<tokio::sync::OnceCell<Arc<watch::Hub>>>,
    /// The server's clock, for the deadlines of writes.
    clock: Arc<deadline::ServerClock>,
}

impl RedisJobStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the
    /// settings a web app wants: a pool of 4 connections that reconnect
    /// forever, 100 ms apart, after an outage or a restart; every command
    /// fails after 1 s instead of waiting for Redis to come back, so a
    /// request answers 503 during an outage (see
    /// [`Error::http_status`](crate::Error::http_status)); and a command
    /// is sent once, never again after a broken connection. (Whatever the
    /// pool, a write answered with an error never lands later: each write
    /// carries the server time after which its client has given up on it,
    /// and is refused past it.) Build the pool yourself for other settings
    /// and use [`new`](Self::new).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), jobsess::Error> {
    /// let store = jobsess::redis::RedisJobStore::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] for a bad URL or a Redis that doesn't answer,
    /// naming the server's host and port, never the URL's credentials.
    pub async fn connect(url: &str) -> Result<Self> {
        Ok(RedisJobStore::new(connect_pool(url, 4).await?))
    }

    /// A store on `pool` under the namespace `jobsess`, with no expiry.
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        RedisJobStore {
            pool,
            namespace: Arc::from("jobsess"),
            ttl_seconds: 0,
            update_attempts: DEFAULT_UPDATE_ATTEMPTS,
            hub: Arc::default(),
            clock: Arc::default(),
        }
    }

    /// The first segment of every Redis key this store writes. A `:` in it
    /// is replaced by `-`, so it always ends at the first `:`.
    #[must_use]
    pub fn with_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Arc::from(namespace.replace(':', "-"));
        self
    }

    /// Jobs expire `ttl` after their owner's last write (whole seconds; zero:
    /// never, the default).
    ///
    /// ```no_run
    /// # async fn run(pool: fred::clients::Pool) {
    /// use std::time::Duration;
    /// let store = jobsess::redis::RedisJobStore::new(pool).with_ttl(Duration::from_secs(24 * 3600));
    /// # }
    /// ```
    #[must_use]
    pub fn with_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.ttl_seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// How many times an [`update`](crate::AsyncJobSession::update) reads
    /// and tries to write a job that other writers keep changing before it
    /// gives up with [`Error::Conflict`] (at least 1; 32 by default). Tries
    /// after the first wait a random time that grows with each try.
    ///
    /// ```no_run
    /// # async fn run(pool: fred::clients::Pool) {
    /// let store = jobsess::redis::RedisJobStore::new(pool).with_update_attempts(8);
    /// # }
    /// ```
    #[must_use]
    pub fn with_update_attempts(mut self, attempts: u32) -> Self {
        self.update_attempts = attempts.max(1);
        self
    }

    /// The backend of the user whose session holds `token`.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`] unless the token is 16 to 128 ASCII letters,
    /// digits, `-` or `_`.
    pub fn owner(&self, token: &str) -> Result<OwnerJobs> {
        if !Self::is_token(token) {
            return Err(Error::InvalidOwner);
        }
        Ok(OwnerJobs {
            store: self.clone(),
            set_key: format!("{}:{{{token}}}", self.namespace),
        })
    }

    fn is_token(token: &str) -> bool {
        (16..=128).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// The owner token of the session that `claim` identifies (its id, or a
    /// digest of its cookie): the first of concurrent requests of a session
    /// that has no token yet sets `fresh`, and every other one gets the same
    /// token back, so they agree on one owner. The claim is kept for a day,
    /// or for the jobs' TTL if that is longer.
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    async fn claim(&self, claim: &str, fresh: &str) -> Result<String> {
        let key = format!("{}:claim:{}", self.namespace, hex_digest(claim));
        let ttl = self.ttl_seconds.max(24 * 3600);
        let args = vec![fresh.to_owned(), ttl.to_string()];
        CLAIM
            .evalsha_with_reload(self.pool.next(), vec![key.clone()], args)
            .await
            .map_err(|err| Error::backend(Op::Write, &key, err))
    }

    /// A new random owner token: 128 bits from the operating system, as hex.
    ///
    /// ```
    /// let token = jobsess::redis::RedisJobStore::new_owner_token()?;
    /// assert_eq!(token.len(), 32);
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Backend`] if the operating system has no randomness to give.
    pub fn new_owner_token() -> Result<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|err| Error::backend(Op::Write, OWNER_KEY, err.to_string()))?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// The jobs of one owner in a [`RedisJobStore`]: an
/// [`AsyncSessionBackend`] whose every operation is one atomic script.
/// It is not a session: the user's session holds only the owner's token.
#[derive(Clone)]
pub struct OwnerJobs {
    store: RedisJobStore,
    /// `{namespace}:{owner}`, the owner's index of job keys and the start of
    /// each job hash's key.
    set_key: String,
}

impl OwnerJobs {
    fn hash_key(&self, key: &str) -> String {
        format!("{}:{key}", self.set_key)
    }

    fn keys(&self, key: &str) -> Vec<String> {
        vec![self.hash_key(key), self.set_key.clone()]
    }
}

/// The hash field of a watched job: until when (ms) it is watched.
const WATCHED: &str = "\u{0}watched";

/// The hash field that marks a job's hash, so a job with no fields still
/// exists, and holds its revision: every write adds one, so an update
/// writes only over the revision it read. No serde field is named so; it
/// is never returned. (Releases before updates wrote `1` and never changed it.)
const MARKER: &str = "\u{0}jobsess";

/// How close to the server's time (as this process reads it, in ms) an
/// index entry's expiry must be for the listing to be left to the server's
/// own clock. A clock reading can be off: the nodes of a cluster whose
/// clocks differ a little, or a clock that was stepped since the last
/// reading (once a minute). Within this margin that never lists a job
/// that has expired; a clock stepped ahead by more can list one for up to
/// a minute, until the next reading (its hash is gone: it loads as `None`).
const LISTING_MARGIN_MS: i64 = 1000;

/// [`RedisJobStore::with_update_attempts`]'s default.
const DEFAULT_UPDATE_ATTEMPTS: u32 = 32;

/// The Lua helpers a script puts before its body. Each script names the
/// ones it uses and defines only those: Redis runs a script's whole text on
/// every call, and each helper it defines costs on every run.
macro_rules! lua {
    // The server's time in ms, read once per run, when first needed.
    (now) => {
        r"
local now_ms
local function now()
  if not now_ms then
    local t = redis.call('TIME')
    now_ms = t[1] * 1000 + math.floor(t[2] / 1000)
  end
  return now_ms
end
"
    };
    // Whether a job whose `\0watched` holds `watched_at` is being watched.
    (watched) => {
        r"
local function watched(watched_at)
  return watched_at ~= nil and watched_at > now()
end
"
    };
    // A sorted-set command on an owner's index. The index is a sorted set
    // of job keys scored by expiry (ms, `+inf` without a TTL); earlier
    // releases kept a plain set, which is turned into the sorted set the
    // first time a script touches it.
    (zcall) => {
        r"
local function zcall(command, set, ...)
  local reply = redis.pcall(command, set, ...)
  if type(reply) == 'table' and reply.err then
    if redis.call('TYPE', set).ok ~= 'set' then error(reply.err) end
    local members = redis.call('SMEMBERS', set)
    redis.call('DEL', set)
    for _, m in ipairs(members) do redis.call('ZADD', set, '+inf', m) end
    reply = redis.call(command, set, ...)
  end
  return reply
end
"
    };
    // A job's member in its owner's index (its job key): its hash's key
    // after the index's key and a `:` (as `OwnerJobs::hash_key` builds it).
    (member) => {
        r"
local function member(hash, set)
  return string.sub(hash, #set + 2)
end
"
    };
    // Keeps a job in its owner's index, scored by its expiry. With a TTL
    // the expiry moves. Without one, a job whose hash keeps its expiry (a
    // field write: `listed`) needs nothing, as its index entry already has
    // that score: the write that made the job put it there, and only a
    // script that deletes the hash takes it out. A whole write (DEL, HSET)
    // drops the hash's expiry, so it sets the score again.
    (renew) => {
        r"
local function renew(hash, set, ttl, listed)
  if ttl > 0 then
    local at = now() + ttl * 1000
    redis.call('PEXPIREAT', hash, at)
    zcall('ZADD', set, at, member(hash, set))
    redis.call('PEXPIRE', set, ttl * 1000)
  elseif not listed then
    zcall('ZADD', set, '+inf', member(hash, set))
  end
end
"
    };
    // Publishes a whole job, its fields from ARGV[first] on, or only its
    // revision when that would pass 64 KB.
    (publish_job) => {
        r"
local function publish_job(hash, rev, first)
  local size = 0
  for i = first, #ARGV do size = size + #ARGV[i] end
  if size > 65536 then
    redis.call('PUBLISH', hash, cjson.encode({'r', rev}))
  else
    local msg = {'w', rev}
    for i = first, #ARGV do msg[#msg + 1] = ARGV[i] end
    redis.call('PUBLISH', hash, cjson.encode(msg))
  end
end
"
    };
}

/// A script's text: the marker names, the helpers it names (in the order
/// `now zcall member watched renew publish_job`, each after those it uses), then
/// its body. A helper needed on one path only is defined in that path's
/// block instead (`lua!(name)` in the body).
macro_rules! script {
    // A write: ARGV[1] is the server time (ms) after which its client has
    // given up on it, or empty; the body's own arguments start at ARGV[2].
    (write $($helper:ident)* ; $body:expr) => {
        script!(now $($helper)* ; concat!(
            r"
if ARGV[1] ~= '' and now() > tonumber(ARGV[1]) then
  return redis.error_reply('LATE jobsess: this write arrived after its client had given up on it')
end
",
            $body
        ))
    };
    ($($helper:ident)* ; $body:expr) => {
        concat!(
            r"
local MARKER = '\0jobsess'
local WATCHED = '\0watched'
",
            $(lua!($helper),)*
            $body
        )
    };
}

/// A write to a job that is being watched (its hash holds `\0watched`, the
/// time in milliseconds until which some process watches it, renewed by
/// that process while it does) publishes what it did on a channel named as
/// the job's hash, for watchers (`watch.rs`); a job nobody watches costs
/// nothing more, as the script reads `\0watched` with what it reads anyway:
/// a JSON array, `["w", rev, field, json, ...]` for a whole job
/// (`["r", rev]` when that would pass 64 KB: read it),
/// `["f", rev, field, "1" | "0", json, aliases...]` for one field, `["d"]`
/// for a removal. `rev` is the job's revision after the write.
///
/// Replaces a job; KEYS: hash, index; ARGV: the deadline, ttl, the version
/// of the new job (empty: not versioned), then field/value pairs. Returns 1
/// if the job existed, 0 if not, or minus the version of a newer job it
/// left as it was.
static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        write zcall member watched renew;
        concat!(r"
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED, 'jobsess:version')
if ARGV[3] ~= '' then
  local found = tonumber(held[3])
  if found and found > tonumber(ARGV[3]) then return -found end
end
local rev = tostring((tonumber(held[1]) or 0) + 1)
local watched_at = tonumber(held[2])
local existed = redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], MARKER, rev, unpack(ARGV, 4))
renew(KEYS[1], KEYS[2], tonumber(ARGV[2]), false)
if watched(watched_at) then",
            lua!(publish_job),
            r"
  redis.call('HSET', KEYS[1], WATCHED, watched_at)
  publish_job(KEYS[1], rev, 4)
end
return existed"
        )
    ))
});

/// Replaces a job if it is still at the revision an update read; KEYS:
/// hash, index; ARGV: the deadline, ttl, the revision read (empty for a
/// job an earlier release wrote with no marker), then field/value pairs.
/// Returns 1 if it wrote, 0 (and writes nothing) if the job changed or is
/// gone.
static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        write zcall member watched renew;
        concat!(r"
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED)
local rev = held[1]
if rev then
  if rev ~= ARGV[3] then return 0 end
elseif ARGV[3] ~= '' or redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local watched_at = tonumber(held[2])
redis.call('DEL', KEYS[1])
local next = tostring((tonumber(rev) or 0) + 1)
redis.call('HSET', KEYS[1], MARKER, next, unpack(ARGV, 4))
renew(KEYS[1], KEYS[2], tonumber(ARGV[2]), false)
if watched(watched_at) then",
            lua!(publish_job),
            r"
  redis.call('HSET', KEYS[1], WATCHED, watched_at)
  publish_job(KEYS[1], next, 4)
end
return 1"
        )
    ))
});

/// Sets one field of an existing job; KEYS: hash, and the index with a
/// TTL (without one, a field write leaves the index as it is); ARGV: the
/// deadline, ttl, field, its value (empty: remove the field; a JSON text
/// is never empty), then the alias keys to remove. Returns 0 (and writes
/// nothing) if there is no such job.
static SET_FIELD: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        write watched;
        concat!(r"
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED)
-- no marker: no job, or one an earlier release wrote with none
if not held[1] and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if #ARGV > 4 then redis.call('HDEL', KEYS[1], unpack(ARGV, 5)) end
-- the revision goes up with the field, in the same HSET
local rev = tostring((tonumber(held[1]) or 0) + 1)
local value = ARGV[4]
if value ~= '' then
  redis.call('HSET', KEYS[1], ARGV[3], value, MARKER, rev)
else
  redis.call('HDEL', KEYS[1], ARGV[3])
  redis.call('HSET', KEYS[1], MARKER, rev)
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then",
            lua!(zcall),
            lua!(member),
            lua!(renew),
            r"
  renew(KEYS[1], KEYS[2], ttl, true)
end
if watched(tonumber(held[2])) then
  local msg = {'f', rev, ARGV[3], value ~= '' and '1' or '0', value}
  for i = 5, #ARGV do msg[#msg + 1] = ARGV[i] end
  redis.call('PUBLISH', KEYS[1], cjson.encode(msg))
end
return 1"
        )
    ))
});

/// Marks a job as watched until `ARGV[1]` milliseconds from now, if it
/// exists; KEYS: its hash. Returns whether it exists.
static WATCH: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        now;
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], WATCHED, tostring(now() + tonumber(ARGV[1])))
return 1"
    ))
});

/// The owner token claimed for a session: the one already there, else
/// ARGV[1], kept for ARGV[2] seconds. KEYS: the claim.
#[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r"
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]",
    )
});

/// Removes a job; KEYS: hash, index; ARGV: the deadline. Returns 1 if it
/// existed.
static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        write zcall member watched;
        r"
zcall('ZREM', KEYS[2], member(KEYS[1], KEYS[2]))
local watched_at = tonumber(redis.call('HGET', KEYS[1], WATCHED))
local removed = redis.call('DEL', KEYS[1])
if removed == 1 and watched(watched_at) then redis.call('PUBLISH', KEYS[1], cjson.encode({'d'})) end
return removed"
    ))
});

/// The owner's job keys that have not expired, each followed by its
/// expiry (the index's entries, `WITHSCORES`), in order of expiry. KEYS:
/// index. The first entry expires first: when it has expired, every
/// expired entry is dropped from the index before the index is read again;
/// when it has not, the index is read once (and the server's clock not at
/// all if it never expires, `inf`: no job has a TTL).
static LIST: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        now zcall;
        r"
local listed = zcall('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if #listed == 0 or listed[2] == 'inf' or tonumber(listed[2]) >= now() then
  return listed
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now())
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')"
    ))
});

/// Removes jobs; KEYS: index, then their hashes; ARGV: the deadline, then
/// their job keys. Returns how many still existed. Every key it touches is
/// in KEYS, and all of one owner's keys share a hash slot.
static REMOVE_ALL: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(script!(
        write zcall watched;
        r"
local removed = 0
for i = 2, #KEYS do
  local watched_at = tonumber(redis.call('HGET', KEYS[i], WATCHED))
  if redis.call('DEL', KEYS[i]) == 1 then
    removed = removed + 1
    if watched(watched_at) then redis.call('PUBLISH', KEYS[i], cjson.encode({'d'})) end
  end
end
zcall('ZREM', KEYS[1], unpack(ARGV, 2))
return removed"
    ))
});

/// A job object from its fields' JSON texts.
fn object_of(key: &str, fields: impl IntoIterator<Item = (String, String)>) -> Result<Value> {
    let mut object = Map::new();
    for (field, json) in fields {
        let value = serde_json::from_str(&json).map_err(|err| {
            Error::backend(
                Op::Read,
                key,
                format!("field {field:?} holds no JSON: {err}"),
            )
        })?;
        object.insert(field, value);
    }
    Ok(Value::Object(object))
}

/// The arguments of [`INSERT`] and [`UPDATE`] after the deadline: the
/// TTL, the version guard of an insert or the revision an update read,
/// then each field and its JSON.
fn write_args(key: &str, ttl: i64, check: String, value: Value) -> Result<Vec<String>> {
    let Value::Object(fields) = value else {
        return Err(Error::backend(
            Op::Write,
            key,
            "the Redis job store keeps JSON objects only",
        ));
    };
    // one slot more, for the deadline `write` puts first
    let mut args = Vec::with_capacity(3 + 2 * fields.len());
    args.extend([ttl.to_string(), check]);
    for (field, value) in fields {
        args.push(field);
        args.push(json_text(key, &value)?);
    }
    Ok(args)
}

/// A value's JSON text, as the job's hash holds it (written straight into
/// a buffer, cheaper than through `Display`).
fn json_text(key: &str, value: &Value) -> Result<String> {
    serde_json::to_string(value).map_err(|err| Error::backend(Op::Write, key, err))
}

/// How long an update waits before its try number `attempt` (from 1): a
/// random time up to 1 ms, doubled with each try up to 64 ms, so writers
/// that collided don't collide again in step.
fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::BuildHasher;
    let ceiling_us = 1000u64 << attempt.saturating_sub(1).min(6);
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    std::time::Duration::from_micros(random % ceiling_us)
}

impl OwnerJobs {
    /// The job under `key` and its revision (the marker's value; empty for
    /// a job an earlier release wrote without one).
    async fn read(&self, key: &str) -> Result<Option<(String, Value)>> {
        let pairs: Vec<(String, String)> = self
            .store
            .pool
            .hgetall(self.hash_key(key))
            .await
            .map_err(|err| Error::backend(Op::Read, key, err))?;
        if pairs.is_empty() {
            return Ok(None);
        }
        let mut revision = String::new();
        let fields = pairs.into_iter().filter_map(|(field, json)| {
            if field == MARKER {
                revision = json;
                None
            } else if field == WATCHED {
                None
            } else {
                Some((field, json))
            }
        });
        let job = object_of(key, fields)?;
        Ok(Some((revision, job)))
    }

    /// Replaces the job under `key` with [`INSERT`]; with `version`,
    /// unless the job there is newer. Whether it existed.
    async fn write_job(&self, key: &str, value: Value, version: Option<u32>) -> Result<bool> {
        let check = version.map(|v| v.to_string()).unwrap_or_default();
        let args = write_args(key, self.store.ttl_seconds, check, value)?;
        let existed: i64 = self
            .write(&INSERT, Op::Write, key, self.keys(key), args)
            .await?;
        match version {
            Some(known) if existed < 0 => Err(Error::NewerVersion {
                key: key.to_owned(),
                found: u32::try_from(-existed).unwrap_or(u32::MAX),
                known,
            }),
            _ => Ok(existed == 1),
        }
    }

    /// Runs the write `script` (made with `script!(write ...)`) with the
    /// server time after which this store will have answered it with an
    /// error: the script refuses to run later than that (a command the
    /// server received, then held, then ran after the client timed out), so
    /// a write answered with an error never lands afterwards.
    async fn write<R: fred::types::FromValue>(
        &self,
        script: &Script,
        op: Op,
        key: &str,
        keys: Vec<String>,
        mut args: Vec<String>,
    ) -> Result<R> {
        let deadline = self
            .store
            .clock
            .deadline(self.store.pool.next())
            .await
            .map_err(|err| Error::backend(op, key, err))?;
        args.insert(0, deadline);
        self.run(script, op, key, keys, args).await
    }

    /// Runs `script` by its hash, loading it first on a server that doesn't
    /// know it (after a restart or a `SCRIPT FLUSH`).
    async fn run<R: fred::types::FromValue>(
        &self,
        script: &Script,
        op: Op,
        key: &str,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<R> {
        script
            .evalsha_with_reload(self.store.pool.next(), keys, args)
            .await
            .map_err(|err| Error::backend(op, key, err))
    }

    /// The owner's live job keys: one `ZRANGE` of the index with its
    /// scores, no script, when no entry can have expired (none has an
    /// expiry, or each is more than [`LISTING_MARGIN_MS`] later than the
    /// latest the server's clock can read now, as [`deadline::ServerClock`]
    /// knows it). Otherwise, and for an index of an earlier release,
    /// [`LIST`] drops the expired entries and reads the index on the
    /// server's own clock.
    async fn listed(&self, start: &str) -> Result<Vec<String>> {
        use fred::interfaces::SortedSetsInterface;
        let client = self.store.pool.next();
        // each job key with its expiry, soonest first (flat pairs in
        // RESP2, nested in RESP3: the tuples take either)
        let read: std::result::Result<Vec<(String, f64)>, fred::error::Error> = client
            .zrange(&self.set_key, 0, -1, None, false, None, true)
            .await;
        match read {
            Ok(entries) if self.none_expired(client, start, entries.first()).await? => {
                Ok(entries.into_iter().map(|(key, _)| key).collect())
            }
            Ok(_) => self.list_on_server(start).await,
            // a plain set, from an earlier release: the script takes it over
            Err(err) if err.details().starts_with("WRONGTYPE") => self.list_on_server(start).await,
            Err(err) => Err(Error::backend(Op::List, start, err)),
        }
    }

    /// Whether no entry of the index has expired, given its first entry,
    /// the soonest to expire (at `inf`: none ever does). Errors name the
    /// listing's `start`, never the owner's token.
    async fn none_expired(
        &self,
        client: &fred::clients::Client,
        start: &str,
        soonest: Option<&(String, f64)>,
    ) -> Result<bool> {
        let Some(&(_, expiry)) = soonest else {
            return Ok(true);
        };
        if expiry == f64::INFINITY {
            return Ok(true);
        }
        let latest_now = self
            .store
            .clock
            .latest_now(client)
            .await
            .map_err(|err| Error::backend(Op::List, start, err))?;
        // a key expires once the clock has passed its expiry
        #[allow(clippy::cast_precision_loss)]
        Ok(expiry > latest_now.saturating_add(LISTING_MARGIN_MS) as f64)
    }

    /// The owner's live job keys by [`LIST`], on the server's clock.
    async fn list_on_server(&self, start: &str) -> Result<Vec<String>> {
        let listed: Vec<(String, f64)> = self
            .run(
                &LIST,
                Op::List,
                start,
                vec![self.set_key.clone()],
                Vec::new(),
            )
            .await?;
        Ok(listed.into_iter().map(|(key, _)| key).collect())
    }
}

impl AsyncSessionBackend for OwnerJobs {
    /// One `HGETALL`, no script: a job's hash always holds its marker, so
    /// an empty reply is no job (none, or one that expired).
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        Ok(self.read(key).await?.map(|(_, job)| job))
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        self.write_job(key, value, None).await
    }

    /// The version check is in the write's script: one round trip.
    async fn insert_versioned(&self, key: &str, value: Value, version: u32) -> Result<bool> {
        self.write_job(key, value, Some(version)).await
    }

    /// Optimistic: read the job and its revision (one `HGETALL`), run `f`,
    /// and write with a script that checks the revision is unchanged. When
    /// another writer got in between, wait a little and start again, up to
    /// [`RedisJobStore::with_update_attempts`] times.
    async fn update<F>(&self, key: &str, mut f: F) -> Result<bool>
    where
        F: FnMut(&Value) -> Result<Option<Value>> + Send,
    {
        let attempts = self.store.update_attempts;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let Some((revision, job)) = self.read(key).await? else {
                return Ok(false);
            };
            let Some(new) = f(&job)? else {
                return Ok(true);
            };
            let args = write_args(key, self.store.ttl_seconds, revision, new)?;
            let written: i64 = self
                .write(&UPDATE, Op::Write, key, self.keys(key), args)
                .await?;
            if written == 1 {
                return Ok(true);
            }
        }
        Err(Error::Conflict {
            key: key.to_owned(),
            attempts,
        })
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        let removed: i64 = self
            .write(&REMOVE, Op::Remove, key, self.keys(key), Vec::new())
            .await?;
        Ok(removed == 1)
    }

    async fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        let mut listed = self.listed(start).await?;
        listed.retain(|k| k.starts_with(start));
        Ok(listed)
    }

    async fn remove_with_prefix(&self, start: &str) -> Result<usize> {
        let members = self.keys_with_prefix(start).await?;
        if members.is_empty() {
            return Ok(0);
        }
        let mut keys = Vec::with_capacity(1 + members.len());
        keys.push(self.set_key.clone());
        keys.extend(members.iter().map(|member| self.hash_key(member)));
        let removed: i64 = self
            .write(&REMOVE_ALL, Op::Remove, start, keys, members)
            .await?;
        Ok(usize::try_from(removed).unwrap_or(0))
    }

    /// One `HMGET` of the marker, the field and its aliases, no script: no
    /// marker is no job.
    async fn get_field(&self, key: &str, keys: FieldKeys<'_>) -> Result<Option<Value>> {
        let fields: Vec<&str> = std::iter::once(MARKER).chain(keys.members()).collect();
        let mut values: Vec<Option<String>> = self
            .store
            .pool
            .hmget(self.hash_key(key), fields.clone())
            .await
            .map_err(|err| Error::backend(Op::Read, key, err))?;
        let marker = if values.is_empty() {
            None
        } else {
            values.remove(0)
        };
        // no marker: no job, or one an earlier release wrote, which has none
        if marker.is_none() {
            let exists: i64 = self
                .store
                .pool
                .exists(self.hash_key(key))
                .await
                .map_err(|err| Error::backend(Op::Read, key, err))?;
            if exists == 0 {
                return Ok(None);
            }
        }
        object_of(
            key,
            fields[1..]
                .iter()
                .zip(values)
                .filter_map(|(field, json)| Some(((*field).to_owned(), json?))),
        )
        .map(Some)
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        let ttl = self.store.ttl_seconds;
        // one slot more, for the deadline `write` puts first
        let mut args = Vec::with_capacity(4 + write.aliases.len());
        args.push(ttl.to_string());
        args.push(write.name.to_owned());
        // a JSON text is never empty: empty removes the field
        args.push(match &write.value {
            Some(value) => json_text(key, value)?,
            None => String::new(),
        });
        args.extend(write.aliases.iter().map(|f| (*f).to_owned()));
        // without a TTL a field write leaves the owner's index alone
        let keys = if ttl > 0 {
            self.keys(key)
        } else {
            vec![self.hash_key(key)]
        };
        let found: i64 = self.write(&SET_FIELD, Op::Write, key, keys, args).await?;
        Ok(found == 1)
    }
}

/// The jobs of metadata type `M` of the request's user, in the
/// [`RedisJobStore`]: an extractor for axum (features `axum` and `redis`)
/// and for actix-web (features `actix` and `redis`).
///
/// The user's session keeps only the owner token, so a cookie session
/// stays small however many jobs there are. The store comes from the app:
/// `.layer(axum::Extension(store))` in axum, `.app_data(store)` in
/// actix-web; without it the extractor answers 500 and logs why. Derefs to
/// [`AsyncJobSession<M, OwnerJobs>`].
///
/// ```
/// use jobsess::{JobMetadata, redis::RedisJobs};
///
/// #[derive(serde::Serialize, serde::Deserialize, JobMetadata)]
/// struct ExportJob { file: String, progress: u8 }
///
/// async fn progress(jobs: RedisJobs<ExportJob>) -> Result<String, jobsess::Error> {
///     Ok(format!("{:?}", jobs.load_field("job-1", ExportJob::PROGRESS).await?))
/// }
/// # let _ = progress;
/// ```
pub struct RedisJobs<M>(pub AsyncJobSession<M, OwnerJobs>);

impl<M> std::ops::Deref for RedisJobs<M> {
    type Target = AsyncJobSession<M, OwnerJobs>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The owner token kept in an asynchronous session (tower-sessions...)
/// under [`OWNER_KEY`], made and stored there on first use, or when what is
/// there is not a valid token.
///
/// ```
/// # tokio_test::block_on(async {
/// use std::{collections::HashMap, sync::Mutex};
/// let session = Mutex::new(HashMap::new());
/// let token = jobsess::redis::owner_token(&session).await?;
/// assert_eq!(jobsess::redis::owner_token(&session).await?, token);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
///
/// # Errors
/// A failing session, or no randomness for a new token.
pub async fn owner_token<S: AsyncSessionBackend>(session: &S) -> Result<String> {
    // A session that can't be read is an error, never a reason for a new
    // token: that would orphan every job of the old one.
    let stored = session.get(OWNER_KEY).await?;
    if let Some(token) = valid_token(stored) {
        return Ok(token);
    }
    let token = RedisJobStore::new_owner_token()?;
    session
        .insert(OWNER_KEY, Value::String(token.clone()))
        .await?;
    Ok(token)
}

/// [`owner_token`] for a synchronous session (actix-session, maps).
///
/// ```
/// let mut session = std::collections::HashMap::new();
/// let token = jobsess::redis::owner_token_sync(&mut session)?;
/// assert_eq!(session[jobsess::redis::OWNER_KEY], token.as_str());
/// # Ok::<(), jobsess::Error>(())
/// ```
///
/// # Errors
/// A failing session, or no randomness for a new token.
pub fn owner_token_sync<S: crate::SessionBackend>(session: &mut S) -> Result<String> {
    let stored = session.get(OWNER_KEY)?.map(std::borrow::Cow::into_owned);
    if let Some(token) = valid_token(stored) {
        return Ok(token);
    }
    let token = RedisJobStore::new_owner_token()?;
    session.insert(OWNER_KEY, Value::String(token.clone()))?;
    Ok(token)
}

/// An app's own identity of the user (the user id an auth layer found) as
/// the owner of their jobs, so jobs follow the user across sessions and
/// devices. Put it in the request's extensions before the extractor runs,
/// from your auth middleware; [`RedisJobs`] then uses it instead of a
/// token in the session.
///
/// ```
/// use jobsess::redis::OwnerId;
/// let alice = OwnerId("user-42".into());
/// assert_eq!(alice.token().len(), 64);
/// assert_eq!(alice.token(), OwnerId("user-42".into()).token());
/// assert_ne!(alice.token(), OwnerId("user-43".into()).token());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerId(pub String);

impl OwnerId {
    /// The owner token of this user: a digest of the id, so no user id is
    /// written into Redis key names.
    #[must_use]
    pub fn token(&self) -> String {
        hex_digest(&self.0)
    }
}

/// SHA-256 of `text`, as hex.
fn hex_digest(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The owner token of a session that holds `stored` under [`OWNER_KEY`],
/// and whether it is new and must be written there. Without a valid token,
/// the session's `claim` (its id, or a digest of its cookie) is claimed in
/// Redis, so that concurrent first requests agree on one owner; without a
/// claim, a fresh token is made.
#[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
pub(crate) async fn owner_of(
    store: &RedisJobStore,
    stored: Option<Value>,
    claim: Option<&str>,
) -> Result<(String, bool)> {
    if let Some(token) = valid_token(stored) {
        return Ok((token, false));
    }
    let fresh = RedisJobStore::new_owner_token()?;
    let token = match claim {
        Some(claim) => store.claim(claim, &fresh).await?,
        None => fresh,
    };
    if !RedisJobStore::is_token(&token) {
        return Err(Error::InvalidOwner);
    }
    Ok((token, true))
}

fn valid_token(stored: Option<Value>) -> Option<String> {
    match stored {
        Some(Value::String(token)) if RedisJobStore::is_token(&token) => Some(token),
        _ => None,
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn errors_name_the_server_never_the_credentials() {
        assert_eq!(
            server_address("redis://:secret@db.internal:6380/2?x=1"),
            "redis://db.internal:6380"
        );
        assert_eq!(server_address("rediss://user:pw@h"), "rediss://h");
        assert_eq!(server_address("127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[tokio::test]
    async fn a_failed_connect_names_host_and_port_not_the_password() {
        for url in [
            // nothing listens on port 1
            "redis://:s3cret-pw@127.0.0.1:1",
            "redis://alice:s3cret-pw@127.0.0.1:1/0",
            // not a URL fred reads
            "redis://:s3cret-pw@127.0.0.1:notaport",
        ] {
            let err = connect_pool(url, 1).await.map(drop).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("s3cret"), "{text}");
            assert!(text.contains("127.0.0.1"), "{text}");
        }
    }
}
