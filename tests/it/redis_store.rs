//! The server-side Redis job store against a real Redis (`REDIS_URL`):
//! what only Redis has: its keys and hashes, scripts, corrupt fields,
//! RESP3, data of an earlier release, pub/sub through a restart. The cases
//! every engine shares are in `store_conformance.rs`, `faults.rs` and
//! `matrix.rs`.

use std::process::Child;
use std::time::Duration;

use fred::prelude::*;
use jobsess::redis::{RedisJobStore, RedisOwnerJobs};
use jobsess::{AsyncJobSession, Error, Field, JobMetadata, UntypedJob};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::servers::{OwnRedis, durable_redis, free_port};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "transcription")]
struct Job {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

fn job(file: &str) -> Job {
    Job {
        file: file.into(),
        progress: 0,
        language: None,
    }
}

async fn pool(url: &str) -> Pool {
    let pool = Builder::from_config(Config::from_url(url).expect("a Redis URL"))
        .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(2))
        .build_pool(2)
        .expect("a pool");
    pool.init().await.expect("Redis answers");
    pool
}

async fn store() -> RedisJobStore {
    raw_and_store(Duration::from_secs(600)).await.1
}

/// A raw pool on the Redis at `REDIS_URL`, and a store on it whose jobs
/// expire after `ttl` (zero: never).
async fn raw_and_store(ttl: Duration) -> (Pool, RedisJobStore) {
    let raw = pool(&crate::common::redis_url()).await;
    let store = RedisJobStore::new(raw.clone())
        .with_namespace("jobsess-test")
        .with_ttl(ttl);
    (raw, store)
}

/// A fresh owner's jobs as two app instances on one Redis see them: one
/// whose jobs expire after `ttl`, one with no TTL; with a raw pool and the
/// owner's token.
async fn with_and_without_ttl(
    ttl: Duration,
) -> (
    Pool,
    String,
    AsyncJobSession<Job, RedisOwnerJobs>,
    AsyncJobSession<Job, RedisOwnerJobs>,
) {
    let (raw, with_ttl) = raw_and_store(ttl).await;
    let (token, session) = owner(&with_ttl);
    let no_ttl = RedisJobStore::new(raw.clone()).with_namespace("jobsess-test");
    let expiring = AsyncJobSession::<Job, _>::new(session);
    let lasting = AsyncJobSession::<Job, _>::new(no_ttl.owner(&token).unwrap());
    (raw, token, expiring, lasting)
}

/// A fresh owner, so runs and tests never see each other's jobs.
fn owner(store: &RedisJobStore) -> (String, RedisOwnerJobs) {
    let token = RedisJobStore::new_owner_token().unwrap();
    let session = store.owner(&token).unwrap();
    (token, session)
}

#[tokio::test]
async fn owners_and_prefixes_are_isolated() {
    require!(crate::common::redis());
    let store = store().await;
    let (_, alice) = owner(&store);
    let (_, bob) = owner(&store);
    let alice_jobs = AsyncJobSession::<Job, _>::new(alice.clone());
    let bob_jobs = AsyncJobSession::<Job, _>::new(bob);
    alice_jobs.store("job-1", &job("secret.mp3")).await.unwrap();
    assert_eq!(bob_jobs.load("job-1").await.unwrap(), None);
    assert!(!bob_jobs.delete("job-1").await.unwrap());
    assert_eq!(bob_jobs.clear().await.unwrap(), 0);
    let exports = AsyncJobSession::<UntypedJob, _>::with_prefix(alice, "export").unwrap();
    exports.store("job-1", &UntypedJob::new()).await.unwrap();
    assert_eq!(exports.clear().await.unwrap(), 1);
    assert_eq!(alice_jobs.ids().await.unwrap(), ["job-1"]);
    assert!(store.owner("short").is_err());
    assert!(store.owner("0123456789abcdef:injected").is_err());
}

/// Twenty tasks write twenty different fields of one job at once, many
/// times over: with one HSET per write none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_field_writes_lose_nothing() {
    require!(crate::common::redis());
    const FIELDS: [&str; 20] = [
        "f00", "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08", "f09", "f10", "f11", "f12",
        "f13", "f14", "f15", "f16", "f17", "f18", "f19",
    ];
    let store = store().await;
    let (_, session) = owner(&store);
    let jobs = AsyncJobSession::<UntypedJob, _>::new(session);
    jobs.store("shared", &UntypedJob::new()).await.unwrap();
    let mut tasks = Vec::new();
    for (i, name) in FIELDS.into_iter().enumerate() {
        let jobs = jobs.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..10 {
                jobs.store_field("shared", Field::untyped(name), &json!(i * 100 + round))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = jobs.load("shared").await.unwrap().unwrap();
    assert_eq!(stored.len(), 20, "{stored:?}");
    for (i, name) in FIELDS.into_iter().enumerate() {
        assert_eq!(stored[name], json!(i * 100 + 9), "{name}");
    }
}

#[tokio::test]
async fn writes_renew_the_expiry() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::from_secs(600)).await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    jobs.store("a", &job("a")).await.unwrap();
    let ttl: i64 = raw
        .ttl(format!("jobsess-test:{{{token}}}:transcription_a"))
        .await
        .unwrap();
    assert!((590..=600).contains(&ttl), "{ttl}");
    let ttl: i64 = raw.ttl(format!("jobsess-test:{{{token}}}")).await.unwrap();
    assert!((590..=600).contains(&ttl), "{ttl}");
    jobs.clear().await.unwrap();
}

#[tokio::test]
async fn corrupt_fields_are_named_errors() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::ZERO).await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    jobs.store("a", &job("a")).await.unwrap();
    let _: i64 = raw
        .hset(
            format!("jobsess-test:{{{token}}}:transcription_a"),
            ("progress", "\"lots\""),
        )
        .await
        .unwrap();
    let err = jobs.load_field("a", Job::PROGRESS).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"transcription_a as u8: progress: invalid type: string "lots", expected u8"#
    );
    let _: i64 = raw
        .hset(
            format!("jobsess-test:{{{token}}}:transcription_a"),
            ("file", "not json"),
        )
        .await
        .unwrap();
    let err = jobs.load("a").await.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "the Redis job store failed to read transcription_a: field \"file\" holds no JSON"
        ),
        "{err}"
    );
    // the other fields still load; entries (one pipeline) lists the job
    // with its error, beside a good one
    assert_eq!(
        jobs.load_field("a", Job::LANGUAGE).await.unwrap(),
        Some(None)
    );
    jobs.store("b", &job("b")).await.unwrap();
    let entries = jobs.entries().await.unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let text = entries[0].1.as_ref().unwrap_err().to_string();
    assert!(
        entries[0].0 == "a" && text.contains("field \"file\" holds no JSON"),
        "{text}"
    );
    assert_eq!(entries[1].0, "b");
    assert_eq!(entries[1].1.as_ref().unwrap(), &job("b"));
    // and the job can still be removed
    assert_eq!(jobs.clear().await.unwrap(), 2);
}

#[tokio::test]
async fn a_dead_redis_is_an_error_not_a_hang_or_a_panic() {
    require!(crate::common::tools(&["redis-server"]));
    let mut redis = OwnRedis::start().expect("redis-server starts on a free port");
    let store = RedisJobStore::new(pool(&format!("redis://127.0.0.1:{}", redis.1)).await);
    let (_, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    jobs.store("a", &job("a")).await.unwrap();
    redis.0.kill().unwrap();
    redis.0.wait().unwrap();
    let started = std::time::Instant::now();
    let err = jobs.load("a").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                op: jobsess::Op::Read,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("the Redis job store failed to read transcription_a: "),
        "{err}"
    );
    assert!(jobs.store_field("a", Job::PROGRESS, &1).await.is_err());
    assert!(jobs.ids().await.is_err());
    // an update fails at its read, with no retry loop; a watch fails too
    let err = jobs.update("a", |job| job.progress += 1).await.unwrap_err();
    assert!(matches!(err, Error::Backend { .. }), "{err}");
    assert!(matches!(jobs.watch("a").await, Err(Error::Backend { .. })));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// A `u64` kept as a decimal string.
mod as_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "serde")]
struct SerdeJob {
    #[serde(alias = "file")]
    file_name: String,
    #[serde(with = "as_string")]
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The fields of a job's hash, without the marker (which holds the job's
/// revision, so it differs between jobs written a different number of times).
async fn hash(raw: &Pool, token: &str, key: &str) -> std::collections::BTreeMap<String, String> {
    let mut fields: std::collections::BTreeMap<String, String> = raw
        .hgetall(format!("jobsess-test:{{{token}}}:{key}"))
        .await
        .unwrap();
    assert!(
        fields.remove("\u{0}jobsess").is_some(),
        "{key} has no marker"
    );
    fields
}

/// `update_field` reads and writes its field alone (one `HMGET`, then the
/// field write's script with the revision read): a member no release can
/// decode stays as it is, where the whole-job update fails on it; aliases
/// and `with` are followed as `store_field` follows them; a job an earlier
/// release wrote, with no marker, is updated whole.
#[tokio::test]
async fn update_field_reads_and_writes_the_field_alone_on_redis() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::ZERO).await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<SerdeJob, _>::new(session);
    let hash_key = |key: &str| format!("jobsess-test:{{{token}}}:{key}");
    let m = SerdeJob {
        file_name: "a.mp3".into(),
        size: 42,
        error: None,
    };
    jobs.store("a", &m).await.unwrap();
    let _: i64 = raw
        .hset(hash_key("serde_a"), ("written_elsewhere", "not JSON"))
        .await
        .unwrap();
    let size = jobs.update_field("a", SerdeJob::SIZE, |s| *s += 1).await;
    assert_eq!(size.unwrap(), 43);
    let stored = hash(&raw, &token, "serde_a").await;
    assert_eq!(stored["size"], r#""43""#, "{stored:?}");
    assert_eq!(stored["written_elsewhere"], "not JSON");
    let err = jobs.update("a", |job| job.size += 1).await.unwrap_err();
    assert!(err.to_string().contains("serde_a"), "{err}");
    assert_eq!(hash(&raw, &token, "serde_a").await, stored);

    // an alias: read from it, written under the key, the alias removed
    jobs.store("b", &m).await.unwrap();
    let _: i64 = raw.hdel(hash_key("serde_b"), "file_name").await.unwrap();
    let _: i64 = raw
        .hset(hash_key("serde_b"), ("file", r#""old.mp3""#))
        .await
        .unwrap();
    let name = jobs
        .update_field("b", SerdeJob::FILE_NAME, |name| name.insert_str(0, "re-"))
        .await;
    assert_eq!(name.unwrap(), "re-old.mp3");
    let stored = hash(&raw, &token, "serde_b").await;
    assert_eq!(stored.get("file"), None, "{stored:?}");
    assert_eq!(stored["file_name"], r#""re-old.mp3""#);

    // no marker: a job of an earlier release, updated whole
    let _: () = raw
        .hset(
            hash_key("serde_c"),
            vec![("file_name", r#""c.mp3""#), ("size", r#""5""#)],
        )
        .await
        .unwrap();
    let size = jobs.update_field("c", SerdeJob::SIZE, |s| *s *= 2).await;
    assert_eq!(size.unwrap(), 10);
    assert_eq!(
        jobs.load("c").await.unwrap(),
        Some(SerdeJob {
            file_name: "c.mp3".into(),
            size: 10,
            error: None,
        })
    );

    // no job: not found, nothing made
    let err = jobs
        .update_field("gone", SerdeJob::SIZE, |s| *s += 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JobNotFound { .. }), "{err:?}");
    assert!(!jobs.contains("gone").await.unwrap());
    jobs.clear().await.unwrap();
    let _: i64 = raw.del(hash_key("serde_c")).await.unwrap();
}

#[tokio::test]
async fn field_access_follows_serde_attributes_on_redis() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::ZERO).await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<SerdeJob, _>::new(session);
    let m = SerdeJob {
        file_name: "a.mp3".into(),
        size: 42,
        error: Some("boom".into()),
    };
    jobs.store("a", &m).await.unwrap();
    jobs.store(
        "b",
        &SerdeJob {
            error: None,
            ..m.clone()
        },
    )
    .await
    .unwrap();
    let whole_b = hash(&raw, &token, "serde_b").await;

    // `with`: the same functions both ways
    assert_eq!(hash(&raw, &token, "serde_a").await["size"], r#""42""#);
    jobs.store_field("a", SerdeJob::SIZE, &7).await.unwrap();
    assert_eq!(hash(&raw, &token, "serde_a").await["size"], r#""7""#);
    assert_eq!(jobs.load_field("a", SerdeJob::SIZE).await.unwrap(), Some(7));

    // `skip_serializing_if`: the field write removes the hash field, so the
    // job is what a whole store of it writes
    jobs.store_field("a", SerdeJob::ERROR, &None).await.unwrap();
    jobs.store_field("a", SerdeJob::SIZE, &42).await.unwrap();
    assert_eq!(hash(&raw, &token, "serde_a").await, whole_b);
    assert_eq!(
        jobs.load_field("a", SerdeJob::ERROR).await.unwrap(),
        Some(None)
    );

    // `alias`: read from the alias, written back under the key, alias removed
    let _: i64 = raw
        .hdel(format!("jobsess-test:{{{token}}}:serde_b"), "file_name")
        .await
        .unwrap();
    let _: i64 = raw
        .hset(
            format!("jobsess-test:{{{token}}}:serde_b"),
            ("file", r#""old.mp3""#),
        )
        .await
        .unwrap();
    assert_eq!(
        jobs.load_field("b", SerdeJob::FILE_NAME)
            .await
            .unwrap()
            .as_deref(),
        Some("old.mp3")
    );
    assert_eq!(jobs.load("b").await.unwrap().unwrap().file_name, "old.mp3");
    jobs.store_field("b", SerdeJob::FILE_NAME, &"new.mp3".into())
        .await
        .unwrap();
    let after = hash(&raw, &token, "serde_b").await;
    assert!(!after.contains_key("file"), "{after:?}");
    assert_eq!(after["file_name"], r#""new.mp3""#);
    jobs.clear().await.unwrap();
}

/// A session that can't be read is an error, never a reason to mint a new
/// owner token: that would orphan every job of the old one.
#[tokio::test]
async fn a_failed_session_read_never_replaces_the_owner_token() {
    use std::sync::atomic::{AtomicBool, Ordering};

    struct Flaky {
        written: AtomicBool,
    }

    impl jobsess::AsyncSessionBackend for Flaky {
        async fn get(&self, key: &str) -> jobsess::Result<Option<serde_json::Value>> {
            Err(Error::backend(
                jobsess::Op::Read,
                key,
                "session store timed out",
            ))
        }
        async fn insert(&self, _: &str, _: serde_json::Value) -> jobsess::Result<bool> {
            self.written.store(true, Ordering::SeqCst);
            Ok(false)
        }
        async fn remove(&self, _: &str) -> jobsess::Result<bool> {
            Ok(false)
        }
        async fn keys_with_prefix(&self, _: &str) -> jobsess::Result<Vec<String>> {
            Ok(Vec::new())
        }
    }

    let session = Flaky {
        written: AtomicBool::new(false),
    };
    let err = jobsess::store::owner_token(&session).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "session backend failed to read __jobsess_owner: session store timed out"
    );
    assert_eq!(err.http_status(), 503, "a store that failed: retriable");
    assert!(
        !session.written.load(Ordering::SeqCst),
        "a new token was written"
    );
}

/// A job kept alive by `update_field` alone outlives its TTL: the field
/// write renews the job's expiry and its index entry, as `store_field`
/// does.
#[tokio::test]
async fn update_field_renews_the_expiry() {
    require!(crate::common::redis());
    let (_, store) = raw_and_store(Duration::from_secs(1)).await;
    let (_, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    jobs.store("kept", &job("kept")).await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        jobs.update_field("kept", Job::PROGRESS, |p| *p += 1)
            .await
            .unwrap();
    }
    assert_eq!(jobs.ids().await.unwrap(), ["kept"]);
    assert_eq!(
        jobs.load_field("kept", Job::PROGRESS).await.unwrap(),
        Some(3)
    );
    jobs.clear().await.unwrap();
}

/// `ids()` lists exactly the jobs whose hashes Redis still holds, as jobs
/// with and without a TTL come and expire: every job alive after the
/// listing is listed, and every listed job was alive before it. The
/// rounds take both ways of listing: a plain read of the index while no
/// job is due within a second, the server's script once one is.
#[tokio::test]
async fn listed_jobs_are_the_jobs_redis_holds() {
    require!(crate::common::redis());
    use std::collections::BTreeSet;
    let (raw, token, short, long) = with_and_without_ttl(Duration::from_secs(3)).await;
    let mut written = Vec::new();
    let alive = async |ids: &[String]| {
        let mut alive = BTreeSet::new();
        for id in ids {
            let key = format!("jobsess-test:{{{token}}}:transcription_{id}");
            let exists: i64 = raw.exists(key).await.unwrap();
            if exists == 1 {
                alive.insert(id.clone());
            }
        }
        alive
    };
    for round in 0..7 {
        for i in 0..3 {
            let id = format!("short-{round}-{i}");
            short.store(&id, &job(&id)).await.unwrap();
            written.push(id);
        }
        let id = format!("long-{round}");
        long.store(&id, &job(&id)).await.unwrap();
        written.push(id);
        let before = alive(&written).await;
        let listed: BTreeSet<String> = long.ids().await.unwrap().into_iter().collect();
        let after = alive(&written).await;
        assert!(
            listed.is_subset(&before),
            "round {round}: listed {listed:?}, alive before {before:?}"
        );
        assert!(
            after.is_subset(&listed),
            "round {round}: listed {listed:?}, alive after {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert!(
        written.len() > alive(&written).await.len(),
        "some jobs expired"
    );
    long.clear().await.unwrap();
}

/// Every operation, and a watch, gives the same answers on a pool that
/// speaks RESP3, where Redis answers `HGETALL` with a map and
/// `ZRANGE ... WITHSCORES` with nested pairs, as on the default RESP2.
#[tokio::test]
async fn a_resp3_pool_gives_the_same_answers() {
    require!(crate::common::redis());
    use fred::types::RespVersion;
    let mut config = Config::from_url(&crate::common::redis_url()).unwrap();
    config.version = RespVersion::RESP3;
    let resp3 = Builder::from_config(config).build_pool(2).unwrap();
    resp3.init().await.expect("Redis answers in RESP3");
    for ttl in [Duration::ZERO, Duration::from_secs(600)] {
        let store = RedisJobStore::new(resp3.clone())
            .with_namespace("jobsess-test")
            .with_ttl(ttl);
        let (_, session) = owner(&store);
        let jobs = AsyncJobSession::<Job, _>::new(session);
        jobs.store("a", &job("a")).await.unwrap();
        jobs.store("b", &job("b")).await.unwrap();
        jobs.store_field("a", Job::PROGRESS, &7).await.unwrap();
        assert_eq!(
            jobs.load_field("a", Job::PROGRESS).await.unwrap(),
            Some(7),
            "{ttl:?}"
        );
        let mut expected = job("a");
        expected.progress = 7;
        assert_eq!(jobs.load("a").await.unwrap(), Some(expected), "{ttl:?}");
        assert_eq!(jobs.ids().await.unwrap(), ["a", "b"], "{ttl:?}");
        assert!(jobs.delete("b").await.unwrap());
        assert_eq!(jobs.ids().await.unwrap(), ["a"], "{ttl:?}");
        let mut progress = Box::pin(jobs.watch_field("a", Job::PROGRESS).await.unwrap());
        assert_eq!(next(&mut progress).await, 7, "{ttl:?}");
        jobs.store_field("a", Job::PROGRESS, &8).await.unwrap();
        assert_eq!(next(&mut progress).await, 8, "{ttl:?}");
        assert_eq!(jobs.clear().await.unwrap(), 1, "{ttl:?}");
    }
}

/// A job with no fields is still a job.
#[tokio::test]
async fn a_job_with_no_fields_exists() {
    require!(crate::common::redis());
    let store = store().await;
    let (_, session) = owner(&store);
    let jobs = AsyncJobSession::<UntypedJob, _>::new(session);
    jobs.store("empty", &UntypedJob::new()).await.unwrap();
    assert!(jobs.contains("empty").await.unwrap());
    assert_eq!(jobs.load("empty").await.unwrap(), Some(UntypedJob::new()));
    assert_eq!(jobs.ids().await.unwrap(), ["empty"]);
    jobs.store_field("empty", Field::untyped("status"), &json!("done"))
        .await
        .unwrap();
    assert_eq!(jobs.load("empty").await.unwrap().unwrap()["status"], "done");
    assert!(jobs.delete("empty").await.unwrap());
    assert!(!jobs.contains("empty").await.unwrap());
}

/// Scripts run by hash; after `SCRIPT FLUSH` (as after a restart) they are
/// loaded again, transparently.
#[tokio::test]
async fn scripts_reload_after_a_flush() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::ZERO).await;
    let (_, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    jobs.store("a", &job("a")).await.unwrap();
    let _: () = raw.script_flush(false).await.unwrap();
    assert_eq!(jobs.load("a").await.unwrap(), Some(job("a")));
    jobs.store_field("a", Job::PROGRESS, &3).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["a"]);
    assert_eq!(jobs.clear().await.unwrap(), 1);
}

/// A field written by an instance with no TTL leaves a job stored with one
/// to expire as it would: it is then gone from the listing too, not a ghost
/// whose index entry outlives its hash.
#[tokio::test]
async fn a_field_write_without_a_ttl_keeps_the_jobs_expiry() {
    require!(crate::common::redis());
    let (raw, token, stored, patched) = with_and_without_ttl(Duration::from_secs(1)).await;
    stored.store("a", &job("a")).await.unwrap();
    patched.store_field("a", Job::PROGRESS, &7).await.unwrap();
    assert_eq!(
        patched.load_field("a", Job::PROGRESS).await.unwrap(),
        Some(7)
    );
    assert_eq!(patched.ids().await.unwrap(), ["a"]);
    // `b`, stored later, keeps the owner's index alive past `a`'s expiry
    tokio::time::sleep(Duration::from_millis(600)).await;
    stored.store("b", &job("b")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(patched.load("a").await.unwrap(), None);
    assert_eq!(patched.ids().await.unwrap(), ["b"]);
    let set = format!("jobsess-test:{{{token}}}");
    let members: Vec<String> = raw
        .zrange(&set, 0, -1, None, false, None, false)
        .await
        .unwrap();
    assert_eq!(members, ["transcription_b"]);
}

/// An owner's index written by the earlier release (a plain set of job
/// keys) is read, and taken over on the next write.
#[tokio::test]
async fn data_of_the_earlier_release_is_read() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::ZERO).await;
    let (token, session) = owner(&store);
    let set = format!("jobsess-test:{{{token}}}");
    let _: i64 = raw
        .hset(
            format!("{set}:transcription_a"),
            [("file", r#""a""#), ("progress", "4")],
        )
        .await
        .unwrap();
    let _: i64 = raw.sadd(&set, "transcription_a").await.unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(session);
    assert_eq!(jobs.ids().await.unwrap(), ["a"]);
    assert_eq!(jobs.load_field("a", Job::PROGRESS).await.unwrap(), Some(4));
    jobs.store("b", &job("b")).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["a", "b"]);
    assert_eq!(jobs.clear().await.unwrap(), 2);

    // The index is taken over by whichever operation touches it first.
    for what in ["store_field", "delete", "store"] {
        let (token, session) = owner(&store);
        let set = format!("jobsess-test:{{{token}}}");
        let _: i64 = raw
            .hset(format!("{set}:transcription_a"), [("file", r#""a""#)])
            .await
            .unwrap();
        let _: i64 = raw.sadd(&set, "transcription_a").await.unwrap();
        let jobs = AsyncJobSession::<Job, _>::new(session);
        match what {
            "store_field" => jobs.store_field("a", Job::PROGRESS, &5).await.unwrap(),
            "delete" => assert!(jobs.delete("a").await.unwrap()),
            _ => jobs.store("b", &job("b")).await.unwrap(),
        }
        let ids = jobs.ids().await.unwrap();
        let expected: &[&str] = match what {
            "delete" => &[],
            "store" => &["a", "b"],
            _ => &["a"],
        };
        assert_eq!(ids, expected, "{what} first");
        jobs.clear().await.unwrap();
    }
}

/// A [`durable_redis`] on a free port with a fresh directory named after
/// `namespace`, and `RedisJobStore::connect` to it under that namespace.
async fn durable_store(namespace: &str) -> (u16, std::path::PathBuf, Child, RedisJobStore) {
    let port = free_port().expect("a free port");
    let dir = std::env::temp_dir().join(format!("{namespace}-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let redis = durable_redis(port, &dir);
    let store = RedisJobStore::connect(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap()
        .with_namespace(namespace);
    (port, dir, redis, store)
}

/// A watch stream through a Redis restart: the subscriber reconnects and
/// subscribes again, the job is read again, and the stream goes on with
/// the latest value, including a write made while it was reconnecting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_resumes_after_redis_restarts() {
    require!(crate::common::tools(&["redis-server"]));
    let (port, dir, mut redis, store) = durable_store("jobsess-watch-restart").await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    let mut progress = watching_progress(&jobs, "live").await;

    redis.kill().unwrap();
    redis.wait().unwrap();
    let mut redis = durable_redis(port, &dir);
    // a change whose message nobody got (made with plain commands, which
    // publish nothing, as a write made while the subscriber was away):
    // the watcher reads the job again once it is back
    let raw = pool(&format!("redis://127.0.0.1:{port}")).await;
    let hash = format!("jobsess-watch-restart:{{{token}}}:transcription_live");
    let _: i64 = raw.hset(&hash, ("progress", "20")).await.unwrap();
    let _: i64 = raw.hincrby(&hash, "\u{0}jobsess", 1).await.unwrap();
    let arrived = tokio::time::timeout(
        Duration::from_secs(25),
        futures_util::StreamExt::next(&mut progress),
    )
    .await;
    let arrived = arrived.expect("the lost write within the renewal's 20 s");
    assert_eq!(arrived.expect("the stream goes on").unwrap(), 20);
    // and the subscription is live again
    jobs.store_field("live", Job::PROGRESS, &30).await.unwrap();
    assert_eq!(next(&mut progress).await, 30);
    jobs.clear().await.unwrap();
    redis.kill().unwrap();
    redis.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The watchers of one job in one process share one keeper of its state:
/// a message that can't be applied (here one that can't be parsed, as
/// after a change made with plain commands) makes the process read the
/// job once, not once per watcher, and every watcher gets the new state.
/// A watcher that joins later starts from the newest state, and from then
/// on each one gets every write, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchers_of_a_job_share_one_read_of_it() {
    require!(crate::common::tools(&["redis-server"]));
    use futures_util::StreamExt;

    const WATCHERS: usize = 50;
    let redis = OwnRedis::start().expect("redis-server starts on a free port");
    let url = format!("redis://127.0.0.1:{}", redis.1);
    let store = RedisJobStore::connect(&url).await.unwrap();
    let raw = pool(&url).await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    jobs.store("shared", &job("shared")).await.unwrap();
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let mut progress = Box::pin(jobs.watch_field("shared", Job::PROGRESS).await.unwrap());
        assert_eq!(progress.next().await.unwrap().unwrap(), 0);
        watchers.push(progress);
    }
    jobs.store_field("shared", Job::PROGRESS, &10)
        .await
        .unwrap();
    for progress in &mut watchers {
        assert_eq!(next(progress).await, 10);
    }

    let reads = async || -> u64 {
        let info: String = raw
            .custom(fred::cmd!("INFO"), vec!["commandstats"])
            .await
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_hgetall:calls="))
            .and_then(|l| l.split(',').next()?.parse().ok())
            .unwrap_or(0)
    };
    let before = reads().await;
    let hash = format!("jobsess:{{{token}}}:transcription_shared");
    let _: i64 = raw.hset(&hash, ("progress", "20")).await.unwrap();
    let _: i64 = raw.hincrby(&hash, "\u{0}jobsess", 1).await.unwrap();
    let _: i64 = raw.next().publish(&hash, "not a message").await.unwrap();
    for progress in &mut watchers {
        assert_eq!(next(progress).await, 20);
    }
    assert_eq!(
        reads().await - before,
        1,
        "one read for {WATCHERS} watchers"
    );

    // a late watcher starts at 20; then everyone gets 21, 22, 23 in order
    let mut late = Box::pin(jobs.watch_field("shared", Job::PROGRESS).await.unwrap());
    assert_eq!(late.next().await.unwrap().unwrap(), 20);
    watchers.push(late);
    for step in 21..=23 {
        jobs.store_field("shared", Job::PROGRESS, &step)
            .await
            .unwrap();
    }
    for progress in &mut watchers {
        for step in 21..=23 {
            assert_eq!(next(progress).await, step);
        }
    }
    jobs.delete("shared").await.unwrap();
    for progress in &mut watchers {
        assert!(progress.next().await.is_none(), "the stream ends");
    }
}

/// A write whose message never arrives (a pub/sub message is sent at most
/// once) still reaches the watchers: a second after the last message it
/// got, the job's keeper reads the job, and it reads it again at each
/// renewal of the watch mark (every 20 s). Here the lost write is made with
/// plain commands, which publish nothing, right after a watched write: it
/// arrives a second later, or, where this test was held up for over a
/// second between the two writes (a loaded machine), at the renewal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_message_is_lost_still_reaches_the_watchers() {
    require!(crate::common::redis());
    let (raw, store) = raw_and_store(Duration::ZERO).await;
    let (token, session) = owner(&store);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    let mut progress = watching_progress(&jobs, "lost").await;
    let hash = format!("jobsess-test:{{{token}}}:transcription_lost");
    let _: i64 = raw.hset(&hash, ("progress", "20")).await.unwrap();
    let _: i64 = raw.hincrby(&hash, "\u{0}jobsess", 1).await.unwrap();
    let arrived = tokio::time::timeout(
        Duration::from_secs(25),
        futures_util::StreamExt::next(&mut progress),
    )
    .await;
    let arrived = arrived.expect("the lost write within the renewal's 20 s");
    assert_eq!(arrived.expect("the stream goes on").unwrap(), 20);
    jobs.delete("lost").await.unwrap();
}

/// A field write that removes the field (`None` under
/// `skip_serializing_if`) reaches the watchers as a removal, and leaves no
/// hash field behind; with and without a TTL, as the two take different
/// paths in the field write's script.
#[tokio::test]
async fn a_field_removed_by_a_write_is_removed_for_the_watchers() {
    require!(crate::common::redis());
    for ttl in [Duration::ZERO, Duration::from_secs(600)] {
        let (raw, store) = raw_and_store(ttl).await;
        let (token, session) = owner(&store);
        let jobs = AsyncJobSession::<Job, _>::new(session);
        jobs.store("lang", &job("lang")).await.unwrap();
        let mut language = Box::pin(jobs.watch_field("lang", Job::LANGUAGE).await.unwrap());
        assert_eq!(next(&mut language).await, None);
        jobs.store_field("lang", Job::LANGUAGE, &Some("fr".to_owned()))
            .await
            .unwrap();
        assert_eq!(next(&mut language).await.as_deref(), Some("fr"), "{ttl:?}");
        jobs.store_field("lang", Job::LANGUAGE, &None)
            .await
            .unwrap();
        assert_eq!(next(&mut language).await, None, "{ttl:?}");
        let fields = hash(&raw, &token, "transcription_lang").await;
        let named: Vec<&String> = fields.keys().filter(|k| !k.starts_with('\0')).collect();
        assert_eq!(named, ["file", "progress"], "{ttl:?}");
        assert_eq!(jobs.ids().await.unwrap(), ["lang"], "{ttl:?}");
        jobs.delete("lang").await.unwrap();
    }
}

/// Job `id` stored and its progress watched, through a first field write
/// (0, then 10): the stream, for what the test does next.
async fn watching_progress(
    jobs: &AsyncJobSession<Job, RedisOwnerJobs>,
    id: &str,
) -> std::pin::Pin<Box<dyn futures_util::Stream<Item = jobsess::Result<u8>> + Send>> {
    jobs.store(id, &job(id)).await.unwrap();
    let mut progress: std::pin::Pin<Box<dyn futures_util::Stream<Item = _> + Send>> =
        Box::pin(jobs.watch_field(id, Job::PROGRESS).await.unwrap());
    assert_eq!(next(&mut progress).await, 0);
    jobs.store_field(id, Job::PROGRESS, &10).await.unwrap();
    assert_eq!(next(&mut progress).await, 10);
    progress
}

/// The next value of a watched field, within 10 s.
async fn next<T, S: futures_util::Stream<Item = jobsess::Result<T>> + Unpin>(
    progress: &mut S,
) -> T {
    use futures_util::StreamExt;
    tokio::time::timeout(Duration::from_secs(10), progress.next())
        .await
        .expect("a value within 10 s")
        .expect("the stream goes on")
        .unwrap()
}
