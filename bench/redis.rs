//! The Redis job store against raw fred commands and the least Lua
//! scripts doing the same work, on the same pool; an axum route through
//! each over real sockets (`JOBSESS_BENCH_HTTP=1`); and what a user would
//! use instead (tower-sessions' and actix-session's Redis stores).
//! `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p jobsess-lab --bench redis`;
//! the README beside this file has the modes. BENCHMARKS.md has the results.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)] // the benches share `common`; this one uses a part of it
mod common;
use common::harness::{seeded_writes, update_against_load_store};
use common::job::{ID, PluginInfo, TranscriptionJob, UserPreferences, job_123};
use common::pairs::{self, Pair};
use jobsess::{AsyncJobSession, UntypedJob};
use serde_json::{Map, Value};

/// How often a Redis `update` has to run again because another writer got
/// in first: `writers` tasks on two pools (two app instances) each update
/// one job `rounds` times. Prints the retries per update; every update must
/// succeed and the counter must come out exact.
fn redis_update_contention(url: &str) {
    use fred::prelude::{ClientLike, Config, Pool};
    use jobsess::redis::RedisJobStore;
    use std::sync::atomic::{AtomicU64, Ordering};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let token = RedisJobStore::new_owner_token().expect("a token");
        let mut instances = Vec::new();
        for _ in 0..2 {
            let pool = Pool::new(Config::from_url(url).expect("a URL"), None, None, None, 4)
                .expect("a pool");
            pool.init().await.expect("Redis answers");
            let store = RedisJobStore::new(pool).with_namespace("jobsess-bench");
            instances.push(AsyncJobSession::<TranscriptionJob, _>::new(
                store.owner(&token).expect("an owner"),
            ));
        }
        for writers in [2u64, 8, 32] {
            let rounds = 50;
            let mut job = job_123();
            job.file_info.size = 0;
            instances[0].store("hot", &job).await.expect("stores");
            let runs = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let tasks: Vec<_> = (0..writers)
                .map(|w| {
                    let jobs = instances[usize::try_from(w % 2).expect("0 or 1")].clone();
                    let runs = Arc::clone(&runs);
                    tokio::spawn(async move {
                        for _ in 0..rounds {
                            jobs.update("hot", |job| {
                                runs.fetch_add(1, Ordering::Relaxed);
                                job.file_info.size += 1;
                            })
                            .await
                            .expect("updates");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a writer");
            }
            let elapsed = started.elapsed();
            let updates = writers * rounds;
            let size = instances[1]
                .load_field("hot", TranscriptionJob::FILE_INFO)
                .await
                .expect("loads")
                .expect("a job")
                .size;
            assert_eq!(size, updates, "lost updates");
            let retries = runs.load(Ordering::Relaxed) - updates;
            #[allow(clippy::cast_precision_loss)]
            let rate = retries as f64 / updates as f64;
            eprintln!(
                "redis_update_contention/{writers}_writers: {updates} updates, {retries} retries \
                 ({rate:.2} per update), {:.0} updates/s",
                updates as f64 / elapsed.as_secs_f64()
            );
        }
        instances[0].clear().await.expect("clears");
    });
}

/// The Redis job store against the same work done with raw fred commands,
/// one round trip each, on the Redis at `REDIS_URL` (skipped without it).
/// The raw floor keeps a job as a hash of its fields' JSON, as the store does.
/// The least Lua scripts that do the Redis job store's writes atomically,
/// with none of its other work (no revision, no watchers, no deadline):
/// a field write only if the job exists (`EXISTS`, `HSET`), a whole write
/// that replaces the hash and lists it (`DEL`, `HSET`, `ZADD`), and a
/// removal (`ZREM`, `DEL`). Run by hand, they are the floor of any
/// implementation that keeps the store's guarantees in one round trip.
struct ScriptFloors {
    store: fred::types::scripts::Script,
    store_field: fred::types::scripts::Script,
    delete: fred::types::scripts::Script,
    /// The least scripts that do a write's whole work as the store is
    /// configured in these benches (no TTL, a pool without a command
    /// timeout, so an empty deadline): the deadline check, the revision,
    /// the index entry. They leave out only the watch mark's check and
    /// message, the version check and the alias removal.
    full: FullFloors,
}

/// See [`ScriptFloors::full`]. ARGV[1] is the deadline (ms, or empty).
struct FullFloors {
    store: fred::types::scripts::Script,
    store_field: fred::types::scripts::Script,
    delete: fred::types::scripts::Script,
    /// The write of a field update: the field, only if the job is still at
    /// the revision read (ARGV[2]); 0 if it changed, so the caller reads again.
    update_field: fred::types::scripts::Script,
}

/// The deadline check of [`FullFloors`]: refuse a write past ARGV[1].
const FULL_DEADLINE: &str = "if ARGV[1] ~= '' then local t = redis.call('TIME') \
     if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[1]) then \
     return redis.error_reply('LATE') end end ";

impl Default for ScriptFloors {
    fn default() -> Self {
        use fred::types::scripts::Script;
        ScriptFloors {
            store: Script::from_lua(
                "redis.call('DEL', KEYS[1]) \
                 redis.call('HSET', KEYS[1], unpack(ARGV, 2)) \
                 redis.call('ZADD', KEYS[2], '+inf', ARGV[1]) return 1",
            ),
            store_field: Script::from_lua(
                "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end \
                 redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1",
            ),
            delete: Script::from_lua(
                "redis.call('ZREM', KEYS[2], ARGV[1]) return redis.call('DEL', KEYS[1])",
            ),
            full: FullFloors {
                // ARGV[2] the index member, ARGV[3..] the fields
                store: Script::from_lua(format!(
                    "{FULL_DEADLINE}\
                     local rev = (tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0) + 1 \
                     redis.call('DEL', KEYS[1]) \
                     redis.call('HSET', KEYS[1], 'rev', rev, unpack(ARGV, 3)) \
                     redis.call('ZADD', KEYS[2], '+inf', ARGV[2]) return 1"
                )),
                // ARGV[2] the field, ARGV[3] its JSON
                store_field: Script::from_lua(format!(
                    "{FULL_DEADLINE}\
                     local rev = redis.call('HGET', KEYS[1], 'rev') \
                     if not rev and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end \
                     redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], 'rev', (tonumber(rev) or 0) + 1) \
                     return 1"
                )),
                // ARGV[2] the index member
                delete: Script::from_lua(format!(
                    "{FULL_DEADLINE}\
                     redis.call('ZREM', KEYS[2], ARGV[2]) return redis.call('DEL', KEYS[1])"
                )),
                // ARGV[2] the revision read, ARGV[3] the field, ARGV[4] its JSON
                update_field: Script::from_lua(format!(
                    "{FULL_DEADLINE}\
                     if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[2] then return 0 end \
                     redis.call('HSET', KEYS[1], ARGV[3], ARGV[4], 'rev', tonumber(ARGV[2]) + 1) \
                     return 1"
                )),
            },
        }
    }
}

impl ScriptFloors {
    async fn load(&self, pool: &fred::prelude::Pool) {
        for script in [
            &self.store,
            &self.store_field,
            &self.delete,
            &self.full.store,
            &self.full.store_field,
            &self.full.delete,
            &self.full.update_field,
        ] {
            script.load(pool.next()).await.expect("SCRIPT LOAD");
        }
    }

    /// The field write of the benches, by the full floor's script.
    async fn store_field_full(
        &self,
        pool: &fred::prelude::Pool,
        hash: String,
        prefs: &UserPreferences,
    ) {
        let json = serde_json::to_string(prefs).expect("encodes");
        let args = vec![String::new(), "user_preferences".to_owned(), json];
        let found: i64 = self
            .full
            .store_field
            .evalsha(pool.next(), hash, args)
            .await
            .expect("EVALSHA");
        assert_eq!(found, 1, "the job exists");
    }

    /// A field update by hand with the least work that keeps its guarantee
    /// (no write lost to a concurrent one): `HMGET` of the revision and the
    /// field, decode, change, encode, and the revision-checked write;
    /// again from the read if the job changed in between.
    async fn update_field_full(
        &self,
        pool: &fred::prelude::Pool,
        hash: String,
        f: impl Fn(&mut UserPreferences),
    ) {
        use fred::prelude::HashesInterface;
        loop {
            let (rev, json): (Option<String>, Option<String>) = pool
                .hmget(&hash, vec!["rev", "user_preferences"])
                .await
                .expect("HMGET");
            let (Some(rev), Some(json)) = (rev, json) else {
                panic!("the job exists")
            };
            let mut prefs: UserPreferences = serde_json::from_str(&json).expect("decodes");
            f(&mut prefs);
            let json = serde_json::to_string(&prefs).expect("encodes");
            let args = vec![String::new(), rev, "user_preferences".to_owned(), json];
            let written: i64 = self
                .full
                .update_field
                .evalsha(pool.next(), hash.clone(), args)
                .await
                .expect("EVALSHA");
            if written == 1 {
                return;
            }
        }
    }

    /// The field write of the benches, by the floor's script.
    async fn store_field(&self, pool: &fred::prelude::Pool, hash: String, prefs: &UserPreferences) {
        let json = serde_json::to_string(prefs).expect("encodes");
        let args = vec!["user_preferences".to_owned(), json];
        let found: i64 = self
            .store_field
            .evalsha(pool.next(), hash, args)
            .await
            .expect("EVALSHA");
        assert_eq!(found, 1, "the job exists");
    }
}

/// The Redis job store against raw fred commands doing the same work, on
/// the same pool. With `JOBSESS_BENCH_PAIRED=1` the pairs run in
/// alternating rounds instead of as criterion groups (see [`paired`]);
/// `JOBSESS_BENCH_PAIRED=store` runs only the pairs whose name has `store`.
fn redis_operations(c: &mut Criterion) {
    use fred::prelude::{
        ClientLike, Config, HashesInterface, KeysInterface, Pool, SortedSetsInterface,
    };
    use jobsess::redis::RedisJobStore;

    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("redis_* groups skipped: set REDIS_URL");
        return;
    };
    let rt = common::one_worker();
    let job = job_123();
    let (raw, store) = rt.block_on(async {
        let raw =
            Pool::new(Config::from_url(&url).expect("a URL"), None, None, None, 1).expect("a pool");
        raw.init().await.expect("Redis answers");
        // the same pool for both, so the ratio is jobsess's work alone
        let store = RedisJobStore::new(raw.clone());
        (raw, store.with_namespace("jobsess-bench"))
    });
    let token = RedisJobStore::new_owner_token().expect("a token");
    let floors = ScriptFloors::default();
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(store.owner(&token).expect("an owner"));
    let fields: Vec<(String, String)> = match serde_json::to_value(&job).expect("encodes") {
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
        _ => unreachable!(),
    };
    let raw_key = |id: &str| format!("jobsess-bench-raw:{{{token}}}:job_{id}");
    let prefs = job.user_preferences.clone();
    let set = format!("jobsess-bench-raw:{{{token}}}");
    // a job of about 100 KB: 100 fields of 1 KB
    let big: UntypedJob = (0..100)
        .map(|i| (format!("field_{i:03}"), Value::String("x".repeat(1000))))
        .collect();
    let big_jobs = AsyncJobSession::<UntypedJob, _>::new(store.owner(&token).expect("an owner"));
    rt.block_on(async {
        jobs.store(ID, &job).await.expect("stores");
        let mut fields = fields;
        fields.push(("rev".into(), "1".into()));
        let _: () = raw.hset(raw_key(ID), fields).await.expect("HSET");
        for i in 0..10 {
            let id = format!("job-{i}");
            jobs.store(&id, &job).await.expect("stores");
            let _: i64 = raw
                .zadd(
                    &set,
                    None,
                    None,
                    false,
                    false,
                    (f64::INFINITY, format!("job_{id}")),
                )
                .await
                .expect("ZADD");
        }
        big_jobs.store("big", &big).await.expect("stores");
        floors.load(&raw).await;
        let pairs: Vec<(String, String)> = big
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let _: () = raw.hset(raw_key("big"), pairs).await.expect("HSET");
    });

    let (raw, jobs, big_jobs) = (&raw, &jobs, &big_jobs);
    let (job, prefs, set, raw_key) = (&job, &prefs, &set, &raw_key);
    let floors = &floors;
    // the baselines of the writes, each shared by two pairs
    let store_by_hand = move || async move {
        // each field's JSON, encoded in each call as jobsess does
        let Value::Object(map) = serde_json::to_value(black_box(job)).expect("encodes") else {
            unreachable!()
        };
        let fields: Vec<(String, String)> =
            map.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        let _: () = raw
            .hset(raw_key(black_box(ID)), fields)
            .await
            .expect("HSET");
    };
    let store_field_by_hand = move || async move {
        let json = serde_json::to_string(prefs).expect("encodes");
        let _: () = raw
            .hset(raw_key(black_box(ID)), ("user_preferences", json))
            .await
            .expect("HSET");
    };
    let delete_by_hand = move || async move {
        let key = raw_key(black_box("gone"));
        let _: () = raw.hset(&key, ("a", "1")).await.expect("HSET");
        let _: i64 = raw.del(&key).await.expect("DEL");
    };
    let pairs = [
        Pair::new("redis_store", store_by_hand, move || async move {
            jobs.store(black_box(ID), job).await.expect("stores")
        }),
        Pair::new(
            "redis_load",
            move || async move {
                let pairs: HashMap<String, String> =
                    raw.hgetall(raw_key(black_box(ID))).await.expect("HGETALL");
                let object: Map<String, Value> = pairs
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::from_str(&v).expect("JSON")))
                    .collect();
                black_box(
                    serde_json::from_value::<TranscriptionJob>(Value::Object(object))
                        .expect("decodes"),
                );
            },
            move || async move {
                black_box(jobs.load(black_box(ID)).await.expect("loads"));
            },
        ),
        Pair::new(
            "redis_load_field",
            move || async move {
                let json: Option<String> = raw
                    .hget(raw_key(black_box(ID)), "plugin_info")
                    .await
                    .expect("HGET");
                black_box(json.map(|j| serde_json::from_str::<PluginInfo>(&j).expect("decodes")));
            },
            move || async move {
                black_box(
                    jobs.load_field(black_box(ID), TranscriptionJob::PLUGIN_INFO)
                        .await
                        .expect("loads"),
                );
            },
        ),
        Pair::new(
            "redis_store_field",
            store_field_by_hand,
            move || async move {
                jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, prefs)
                    .await
                    .expect("stores");
            },
        ),
        Pair::new("redis_delete", delete_by_hand, move || async move {
            jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, prefs)
                .await
                .expect("stores");
            black_box(jobs.delete(black_box("gone")).await.expect("deletes"));
        }),
        Pair::new(
            "redis_ids",
            move || async move {
                let members: Vec<String> = raw
                    .zrange(set, 0, -1, None, false, None, false)
                    .await
                    .expect("ZRANGE");
                black_box(members);
            },
            move || async move {
                black_box(jobs.ids().await.expect("lists"));
            },
        ),
        Pair::new(
            "redis_load_100kb",
            move || async move {
                let pairs: HashMap<String, String> = raw
                    .hgetall(raw_key(black_box("big")))
                    .await
                    .expect("HGETALL");
                let object: Map<String, Value> = pairs
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::from_str(&v).expect("JSON")))
                    .collect();
                black_box(object);
            },
            move || async move {
                black_box(big_jobs.load(black_box("big")).await.expect("loads"));
            },
        ),
        // The least script that does each write's work atomically (see
        // `ScriptFloors`), against the same baselines: what any
        // implementation that keeps the guarantees pays at the least.
        Pair::new("redis_store_floor", store_by_hand, move || async move {
            let Value::Object(map) = serde_json::to_value(black_box(job)).expect("encodes") else {
                unreachable!()
            };
            let mut args = vec![format!("job_{ID}")];
            for (k, v) in map {
                args.push(k);
                args.push(v.to_string());
            }
            let keys = vec![raw_key(black_box(ID)), set.clone()];
            let _: i64 = floors
                .store
                .evalsha(raw.next(), keys, args)
                .await
                .expect("EVALSHA");
        })
        .floor(),
        Pair::new(
            "redis_store_field_floor",
            store_field_by_hand,
            move || async move {
                floors.store_field(raw, raw_key(black_box(ID)), prefs).await;
            },
        )
        .floor(),
        Pair::new("redis_delete_floor", delete_by_hand, move || async move {
            floors.store_field(raw, raw_key(black_box(ID)), prefs).await;
            let keys = vec![raw_key(black_box("gone")), set.clone()];
            let _: i64 = floors
                .delete
                .evalsha(raw.next(), keys, "job_gone")
                .await
                .expect("EVALSHA");
        })
        .floor(),
        // jobsess against the least scripts that do each write's whole work
        Pair::new(
            "redis_store_full_floor",
            move || async move {
                let Value::Object(map) = serde_json::to_value(job).expect("encodes") else {
                    unreachable!()
                };
                let mut args = vec![String::new(), format!("job_{ID}")];
                for (k, v) in map {
                    args.push(k);
                    args.push(v.to_string());
                }
                let keys = vec![raw_key(black_box(ID)), set.clone()];
                let _: i64 = floors
                    .full
                    .store
                    .evalsha(raw.next(), keys, args)
                    .await
                    .expect("EVALSHA");
            },
            move || async move { jobs.store(black_box(ID), job).await.expect("stores") },
        ),
        Pair::new(
            "redis_store_field_full_floor",
            move || async move {
                floors
                    .store_field_full(raw, raw_key(black_box(ID)), prefs)
                    .await;
            },
            move || async move {
                jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, prefs)
                    .await
                    .expect("stores");
            },
        ),
        Pair::new(
            "redis_delete_full_floor",
            move || async move {
                floors
                    .store_field_full(raw, raw_key(black_box(ID)), prefs)
                    .await;
                let keys = vec![raw_key(black_box("gone")), set.clone()];
                let args = vec![String::new(), "job_gone".to_owned()];
                let _: i64 = floors
                    .full
                    .delete
                    .evalsha(raw.next(), keys, args)
                    .await
                    .expect("EVALSHA");
            },
            move || async move {
                jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, prefs)
                    .await
                    .expect("stores");
                black_box(jobs.delete(black_box("gone")).await.expect("deletes"));
            },
        ),
        Pair::new(
            "redis_update_field_full_floor",
            move || async move {
                floors
                    .update_field_full(raw, raw_key(black_box(ID)), |p| {
                        p.format = black_box("srt").into();
                    })
                    .await;
            },
            move || async move {
                jobs.update_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, |p| {
                    p.format = black_box("srt").into();
                })
                .await
                .expect("updates");
            },
        ),
    ];
    pairs::run(c, &rt, &pairs);
    if !pairs::paired_mode() {
        update_against_load_store(c, &rt, "redis_update", jobs);
        redis_update_contention(&url);
    }
    if std::env::var_os("JOBSESS_BENCH_HTTP").is_some() {
        redis_http(&rt, raw, &store, floors);
    }

    rt.block_on(async {
        jobs.clear().await.expect("clears");
        let _: i64 = raw
            .del(vec![set.clone(), raw_key(ID), raw_key("big")])
            .await
            .expect("DEL");
    });
}

/// An axum route that reads one field and writes another through the
/// Redis job store, against the same route with raw fred calls (`HGET`,
/// then the least field-write script of [`FullFloors`]) on the same pool,
/// driven over real sockets by [`common::http::compare`]
/// (`JOBSESS_BENCH_HTTP=1`).
fn redis_http(
    rt: &tokio::runtime::Runtime,
    pool: &fred::prelude::Pool,
    store: &jobsess::redis::RedisJobStore,
    floors: &ScriptFloors,
) {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::routing::post;
    use common::http::{CLIENTS, compare, preferences_for, serve, through_jobsess};
    use fred::prelude::{HashesInterface, KeysInterface};
    use jobsess::redis::{RedisJobStore, RedisOwnerJobs};

    #[derive(Clone)]
    struct Raw {
        pool: fred::prelude::Pool,
        store_field: fred::types::scripts::Script,
        owner: String,
    }

    async fn by_hand(
        State(raw): State<Raw>,
        Path(id): Path<String>,
    ) -> Result<String, (StatusCode, String)> {
        let failed = |e: fred::error::Error| (StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        let hash = format!("jobsess-bench-http:{{{}}}:job_{id}", raw.owner);
        let json: Option<String> = raw.pool.hget(&hash, "plugin_info").await.map_err(failed)?;
        let json = json.ok_or((StatusCode::NOT_FOUND, String::new()))?;
        let plugin: PluginInfo = serde_json::from_str(&json)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let prefs = preferences_for(&plugin);
        let json = serde_json::to_string(&prefs)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let args = vec![String::new(), "user_preferences".to_owned(), json];
        let found: i64 = raw
            .store_field
            .evalsha(raw.pool.next(), hash, args)
            .await
            .map_err(failed)?;
        if found == 0 {
            return Err((StatusCode::NOT_FOUND, String::new()));
        }
        Ok(plugin.title)
    }

    let token = RedisJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(store.owner(&token).expect("an owner"));
    let raw = Raw {
        pool: pool.clone(),
        store_field: floors.full.store_field.clone(),
        owner: token.clone(),
    };
    let hashes: Vec<String> = (0..CLIENTS)
        .map(|i| format!("jobsess-bench-http:{{{token}}}:job_http-{i}"))
        .collect();
    let (raw_base, jobs_base) = rt.block_on(async {
        let Value::Object(map) = serde_json::to_value(job_123()).expect("encodes") else {
            unreachable!()
        };
        let mut fields: Vec<(String, String)> =
            map.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        fields.push(("rev".into(), "1".into()));
        for (i, hash) in hashes.iter().enumerate() {
            jobs.store(&format!("http-{i}"), &job_123())
                .await
                .expect("stores");
            let _: () = pool.hset(hash, fields.clone()).await.expect("HSET");
        }
        let raw_app = axum::Router::new()
            .route("/jobs/{id}", post(by_hand))
            .with_state(raw);
        let jobs_app = axum::Router::new()
            .route("/jobs/{id}", post(through_jobsess::<RedisOwnerJobs>))
            .with_state(jobs.clone());
        (serve(raw_app).await, serve(jobs_app).await)
    });
    compare(rt, "redis_http", &raw_base, &jobs_base);
    rt.block_on(async {
        jobs.clear().await.expect("clears");
        let _: i64 = pool.del(hashes).await.expect("DEL");
    });
}

/// A one-field update of a job among 10, as a user would do it instead,
/// against jobsess, with sessions in Redis on both sides (REDIS_URL):
///
/// - tower-sessions with its Redis store (tower-sessions-redis-store):
///   load the session record, change the job, save the record whole;
///   jobsess: load the same store's session (which holds only the owner
///   token), then one field write in the Redis job store.
/// - actix-session with its Redis store, a whole request through the
///   middleware (the session cookie in, the session loaded, the job
///   changed, the state written whole); jobsess: the same app and
///   session middleware, the `RedisJobs` extractor and one field write.
fn instead_on_redis(c: &mut Criterion) {
    use fred::prelude::{ClientLike, Config, Pool};
    use jobsess::redis::RedisJobStore;
    use tower_sessions_redis_store::RedisStore;

    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("redis_field_update_instead_* groups skipped: set REDIS_URL");
        return;
    };
    let rt = common::one_worker();
    let pool = rt.block_on(async {
        let pool =
            Pool::new(Config::from_url(&url).expect("a URL"), None, None, None, 1).expect("a pool");
        pool.init().await.expect("Redis answers");
        pool
    });
    let store = RedisJobStore::new(pool.clone()).with_namespace("jobsess-bench-instead");

    // tower-sessions with its Redis store
    let token = RedisJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(store.owner(&token).expect("an owner"));
    let sessions = Arc::new(RedisStore::new(pool.clone()));
    common::instead::field_update_in_record(
        c,
        &rt,
        "redis_field_update_instead_tower_sessions",
        &sessions,
        &jobs,
    );
    rt.block_on(jobs.clear()).expect("clears");
    drop(rt);

    instead_on_actix_redis(c, &url);
}

/// The actix-session half of [`instead_on_redis`].
fn instead_on_actix_redis(c: &mut Criterion, url: &str) {
    use actix_session::{Session as ActixSession, SessionMiddleware, storage::RedisSessionStore};
    use actix_web::{App, HttpResponse, test, web};
    use fred::prelude::{ClientLike, Config, Pool};
    use jobsess::redis::{RedisJobStore, RedisJobs};

    async fn seed_whole(session: ActixSession) -> Result<HttpResponse, actix_web::Error> {
        for i in 0..10 {
            session.insert(format!("transcription_job-{i}"), job_123())?;
        }
        Ok(HttpResponse::Ok().finish())
    }

    async fn write_whole(session: ActixSession) -> Result<HttpResponse, actix_web::Error> {
        let key = "transcription_job-3";
        let mut job: TranscriptionJob = session
            .get(key)?
            .ok_or_else(|| actix_web::error::ErrorNotFound(key))?;
        job.user_preferences = job_123().user_preferences;
        session.insert(key, job)?;
        Ok(HttpResponse::Ok().finish())
    }

    async fn seed_jobs(jobs: RedisJobs<TranscriptionJob>) -> Result<HttpResponse, jobsess::Error> {
        for i in 0..10 {
            jobs.store(&format!("job-{i}"), &job_123()).await?;
        }
        Ok(HttpResponse::Ok().finish())
    }

    async fn write_jobs(jobs: RedisJobs<TranscriptionJob>) -> Result<HttpResponse, jobsess::Error> {
        jobs.store_field(
            "job-3",
            TranscriptionJob::USER_PREFERENCES,
            &job_123().user_preferences,
        )
        .await?;
        Ok(HttpResponse::Ok().finish())
    }

    let mut group = c.benchmark_group("redis_field_update_instead_actix_session");
    let key = actix_web::cookie::Key::generate();
    for name in ["actix_session_redis_store", "jobsess"] {
        let (key, url) = (key.clone(), url.to_owned());
        group.bench_function(name, move |b| {
            b.iter_custom(|iters| {
                let (key, url) = (key.clone(), url.clone());
                actix_web::rt::System::new().block_on(async move {
                    // the job store's pool runs on this runtime
                    let pool =
                        Pool::new(Config::from_url(&url).expect("a URL"), None, None, None, 1)
                            .expect("a pool");
                    pool.init().await.expect("Redis answers");
                    let store = RedisJobStore::new(pool).with_namespace("jobsess-bench-instead");
                    let sessions = RedisSessionStore::new(url).await.expect("Redis answers");
                    let app = test::init_service(
                        App::new()
                            .wrap(
                                SessionMiddleware::builder(sessions, key)
                                    .cookie_secure(false)
                                    .build(),
                            )
                            .app_data(store)
                            .route("/whole/seed", web::post().to(seed_whole))
                            .route("/whole/write", web::post().to(write_whole))
                            .route("/jobs/seed", web::post().to(seed_jobs))
                            .route("/jobs/write", web::post().to(write_jobs)),
                    )
                    .await;
                    let side = if name == "jobsess" { "jobs" } else { "whole" };
                    let call = async |request: test::TestRequest| {
                        test::call_service(&app, request.to_request()).await
                    };
                    seeded_writes(
                        call,
                        &format!("/{side}/seed"),
                        &format!("/{side}/write"),
                        iters,
                    )
                    .await
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, redis_operations, instead_on_redis);
criterion_main!(benches);
