//! The jobs of one owner: [`RedisOwnerJobs`], the backend whose every
//! operation is one plain read or one script, and the [`RedisJobs`]
//! extractor's handle.

use fred::interfaces::{HashesInterface, KeysInterface};
use serde_json::{Map, Value};

use fred::types::scripts::Script;

use super::scripts::{
    INCREMENT_FIELD, INSERT, LIST, MARKER, REMOVE, REMOVE_ALL, SET_FIELD, UPDATE, UPDATE_FIELD,
    WATCHED,
};
use super::{LISTING_MARGIN_MS, RedisJobStore};
use crate::AsyncSessionBackend;
use crate::backend::{FieldJson, FieldWrite, Increment, Incremented};
use crate::error::{Error, Op, Result};
use crate::model::field::FieldKeys;
use crate::store::update::{Revised, Tries};

/// The jobs of one owner in a [`RedisJobStore`]: an
/// [`AsyncSessionBackend`] whose every operation is one atomic script.
/// It is not a session: the user's session holds only the owner's token.
#[derive(Clone)]
pub struct RedisOwnerJobs {
    pub(super) store: RedisJobStore,
    /// `{namespace}:{owner}`, the owner's index of job keys and the start of
    /// each job hash's key.
    pub(super) set_key: String,
    /// The owner's token, for the references to its jobs.
    pub(super) token: std::sync::Arc<str>,
}

crate::store::store_owner!(RedisOwnerJobs, RedisJobStore, token);

impl RedisOwnerJobs {
    pub(super) fn hash_key(&self, key: &str) -> String {
        format!("{}:{key}", self.set_key)
    }

    fn keys(&self, key: &str) -> Vec<String> {
        vec![self.hash_key(key), self.set_key.clone()]
    }
}

/// A job object from its fields' JSON texts.
pub(super) fn object_of(
    key: &str,
    fields: impl IntoIterator<Item = (String, String)>,
) -> Result<Value> {
    let mut object = Map::new();
    for (field, json) in fields {
        let value = serde_json::from_str(&json).map_err(|err| {
            Error::store_backend(
                crate::redis::STORE,
                Op::Read,
                key,
                format!("field {field:?} holds no JSON: {err}"),
            )
        })?;
        object.insert(field, value);
    }
    Ok(Value::Object(object))
}

/// A job and its revision (the marker's value; empty for a job an
/// earlier release wrote without one) from its hash's fields; `None` for
/// no hash.
fn job_of(key: &str, pairs: Vec<(String, String)>) -> Result<Option<(String, Value)>> {
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

/// The arguments of [`INSERT`] and [`UPDATE`] after the deadline: the
/// TTL, the version guard of an insert or the revision an update read,
/// then each field and its JSON.
fn write_args(key: &str, ttl: i64, check: String, value: Value) -> Result<Vec<String>> {
    let Value::Object(fields) = value else {
        return Err(Error::store_backend(
            crate::redis::STORE,
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
    serde_json::to_string(value)
        .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Write, key, err))
}

impl RedisOwnerJobs {
    /// The job under `key` and its revision (the marker's value; empty for
    /// a job an earlier release wrote without one).
    pub(super) async fn read(&self, key: &str) -> Result<Option<(String, Value)>> {
        let pairs: Vec<(String, String)> = self
            .store
            .pool
            .hgetall(self.hash_key(key))
            .await
            .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Read, key, err))?;
        job_of(key, pairs)
    }

    /// The owner's live jobs whose keys start with `start`, with their
    /// values: the listing, then one pipeline of an `HGETALL` per job (two
    /// round trips, whatever the count). A job that expired between the
    /// two is left out.
    async fn entries(&self, start: &str) -> Result<Vec<(String, Result<Value>)>> {
        let keys = self.listed(start).await?;
        let keys: Vec<String> = keys.into_iter().filter(|k| k.starts_with(start)).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let failed = |err| Error::store_backend(crate::redis::STORE, Op::List, start, err);
        let pipeline = self.store.pool.next().pipeline();
        for key in &keys {
            let () = pipeline.hgetall(self.hash_key(key)).await.map_err(failed)?;
        }
        let read = pipeline.try_all::<Vec<(String, String)>>().await;
        if read.len() != keys.len() {
            // the pipeline failed as a whole: its one error is the listing's
            let err = read.into_iter().find_map(std::result::Result::err);
            return Err(failed(err.unwrap_or_else(|| {
                fred::error::Error::new(
                    fred::error::ErrorKind::Unknown,
                    "the pipeline answered fewer replies than it sent commands",
                )
            })));
        }
        let mut entries = Vec::with_capacity(keys.len());
        for (key, pairs) in keys.into_iter().zip(read) {
            let job = pairs
                .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Read, &key, err))
                .and_then(|pairs| job_of(&key, pairs));
            match job {
                Ok(None) => {}
                Ok(Some((_, job))) => entries.push((key, Ok(job))),
                Err(err) => entries.push((key, Err(err))),
            }
        }
        Ok(entries)
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
            .map_err(|err| Error::store_backend(crate::redis::STORE, op, key, err))?;
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
            .map_err(|err| Error::store_backend(crate::redis::STORE, op, key, err))
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
        let failed = |err| Error::store_backend(crate::redis::STORE, Op::List, start, err);
        // one round trip: the soonest entry with its expiry (flat in RESP2,
        // nested in RESP3: the tuples take either), then every key without
        // their expiries, half the reply
        let pipeline = client.pipeline();
        let () = pipeline
            .zrange(&self.set_key, 0, 0, None, false, None, true)
            .await
            .map_err(failed)?;
        let () = pipeline
            .zrange(&self.set_key, 0, -1, None, false, None, false)
            .await
            .map_err(failed)?;
        let mut replies = pipeline.try_all::<fred::types::Value>().await.into_iter();
        let (Some(soonest), Some(keys)) = (replies.next(), replies.next()) else {
            return Err(failed(fred::error::Error::new(
                fred::error::ErrorKind::Unknown,
                "the pipeline answered fewer replies than it sent commands",
            )));
        };
        let read = soonest
            .and_then(fred::types::Value::convert::<Vec<(String, f64)>>)
            .and_then(|soonest| Ok((soonest, keys?.convert::<Vec<String>>()?)));
        match read {
            Ok((soonest, keys)) if self.none_expired(client, start, soonest.first()).await? => {
                Ok(keys)
            }
            Ok(_) => self.list_on_server(start).await,
            // a plain set, from an earlier release: the script takes it over
            Err(err) if err.details().starts_with("WRONGTYPE") => self.list_on_server(start).await,
            Err(err) => Err(failed(err)),
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
            .map_err(|err| Error::store_backend(crate::redis::STORE, Op::List, start, err))?;
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

impl Revised for RedisOwnerJobs {
    type Revision = String;

    fn update_attempts(&self) -> u32 {
        self.store.settings.update_attempts()
    }

    /// Replaces the job under `key` with [`INSERT`]; with `version`,
    /// unless the job there is newer. Whether it existed.
    async fn write_job(&self, key: &str, value: Value, version: Option<u32>) -> Result<bool> {
        let check = version.map(|v| v.to_string()).unwrap_or_default();
        let args = write_args(key, self.store.settings.ttl_whole_seconds(), check, value)?;
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

    async fn read_revised(&self, key: &str) -> Result<Option<(String, Value)>> {
        self.read(key).await
    }

    async fn write_if_unchanged(&self, key: &str, revision: String, new: Value) -> Result<bool> {
        let args = write_args(key, self.store.settings.ttl_whole_seconds(), revision, new)?;
        let written: i64 = self
            .write(&UPDATE, Op::Write, key, self.keys(key), args)
            .await?;
        Ok(written == 1)
    }
}

impl AsyncSessionBackend for RedisOwnerJobs {
    /// A field's member holds its JSON text.
    const FIELD_TEXT: bool = true;

    crate::store::update::engine_methods!();

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

    /// The listing, then one pipeline of an `HGETALL` per job.
    async fn entries_with_prefix(&self, start: &str) -> Result<Vec<(String, Result<Value>)>> {
        self.entries(start).await
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
        Ok(self
            .read_members(key, keys)
            .await?
            .map(|(_, members)| members))
    }

    /// Optimistic, as [`update`](Self::update), on the field alone: one
    /// `HMGET` of the revision and the field's members, `f`, and the field
    /// write's script with the revision read, which writes only if it is
    /// unchanged; else again after a little wait. A job an earlier release
    /// wrote, with no revision, is left to the whole-job update.
    async fn update_field<F>(
        &self,
        key: &str,
        keys: FieldKeys<'_>,
        mut f: F,
    ) -> Result<Option<bool>>
    where
        F: FnMut(&Value) -> Result<Option<FieldWrite<'static>>> + Send,
    {
        let mut tries = Tries::new(key, self.store.settings.update_attempts());
        while tries.next().await {
            let Some((revision, members)) = self.read_members(key, keys).await? else {
                return Ok(Some(false));
            };
            let Some(revision) = revision else {
                return Ok(None);
            };
            let Some(write) = f(&members)? else {
                return Ok(None);
            };
            match self
                .write_field(&UPDATE_FIELD, key, write, Some(revision))
                .await?
            {
                0 => return Ok(Some(false)),
                1 => return Ok(Some(true)),
                _ => {}
            }
        }
        Err(tries.conflict())
    }

    async fn set_field(&self, key: &str, write: FieldWrite<'_>) -> Result<bool> {
        Ok(self.write_field(&SET_FIELD, key, write, None).await? == 1)
    }

    /// One script, `increment_field.lua`: the field's member read, added to,
    /// range-checked and written with a new revision, renewed and
    /// published, as a field write is.
    async fn increment_field(&self, key: &str, increment: Increment<'_>) -> Result<Incremented> {
        let ttl = self.store.settings.ttl_whole_seconds();
        // one slot more, for the deadline `write` puts first
        let mut args = Vec::with_capacity(8 + increment.aliases().len());
        args.extend([
            ttl.to_string(),
            increment.name().to_owned(),
            increment.by().to_string(),
            increment.min().to_string(),
            increment.max().to_string(),
            increment
                .absent()
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ]);
        args.extend(increment.aliases().iter().map(|f| (*f).to_owned()));
        let keys = if ttl > 0 {
            self.keys(key)
        } else {
            vec![self.hash_key(key)]
        };
        let done: fred::types::Value = self
            .write(&INCREMENT_FIELD, Op::Write, key, keys, args)
            .await?;
        Ok(match done {
            fred::types::Value::Integer(0) => Incremented::NoJob,
            fred::types::Value::Integer(_) => Incremented::NotHere,
            other => match other.as_str().and_then(|text| text.parse().ok()) {
                Some(value) => Incremented::To(value),
                None => {
                    return Err(Error::store_backend(
                        crate::redis::STORE,
                        Op::Write,
                        key,
                        format!("increment_field.lua answered {other:?}"),
                    ));
                }
            },
        })
    }
}

impl RedisOwnerJobs {
    /// The marker (the revision; `None` for a job an earlier release wrote)
    /// and the members of `keys` of the job under `key`, with one `HMGET`;
    /// `None` if there is no such job.
    async fn read_members(
        &self,
        key: &str,
        keys: FieldKeys<'_>,
    ) -> Result<Option<(Option<String>, Value)>> {
        let fields: Vec<&str> = std::iter::once(MARKER).chain(keys.members()).collect();
        let mut values: Vec<Option<String>> = self
            .store
            .pool
            .hmget(self.hash_key(key), fields.clone())
            .await
            .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Read, key, err))?;
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
                .map_err(|err| Error::store_backend(crate::redis::STORE, Op::Read, key, err))?;
            if exists == 0 {
                return Ok(None);
            }
        }
        let members = object_of(
            key,
            fields[1..]
                .iter()
                .zip(values)
                .filter_map(|(field, json)| Some(((*field).to_owned(), json?))),
        )?;
        Ok(Some((marker, members)))
    }

    /// Runs a field write's script (`set_field.lua`; with `revision`, the
    /// update's, which writes only over that revision): 0 no such job, 1
    /// written, 2 the job changed since `revision`.
    async fn write_field(
        &self,
        script: &Script,
        key: &str,
        write: FieldWrite<'_>,
        revision: Option<String>,
    ) -> Result<i64> {
        let ttl = self.store.settings.ttl_whole_seconds();
        // one slot more, for the deadline `write` puts first
        let mut args = Vec::with_capacity(5 + write.aliases.len());
        args.push(ttl.to_string());
        args.push(write.name.to_owned());
        // a JSON text is never empty: empty removes the field
        args.push(write.value.map(FieldJson::into_text).unwrap_or_default());
        args.extend(write.aliases.iter().map(|f| (*f).to_owned()));
        // the update's revision goes last, where its script takes it off
        args.extend(revision);
        // without a TTL a field write leaves the owner's index alone
        let keys = if ttl > 0 {
            self.keys(key)
        } else {
            vec![self.hash_key(key)]
        };
        self.write(script, Op::Write, key, keys, args).await
    }
}
