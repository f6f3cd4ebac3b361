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
#[path = "redis/contention.rs"]
mod contention;
#[path = "redis/floors.rs"]
mod floors;
#[path = "redis/http.rs"]
mod http;
#[path = "redis/instead.rs"]
mod instead;
use common::harness::{seeded_writes, update_against_load_store};
use common::job::{ID, PluginInfo, TranscriptionJob, UserPreferences, job_123};
use common::pairs::{self, Pair};
use contention::redis_update_contention;
use floors::ScriptFloors;
use http::redis_http;
use instead::instead_on_redis;
use jobsess::{AsyncJobSession, UntypedJob};
use serde_json::{Map, Value};

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

criterion_group!(benches, redis_operations, instead_on_redis);
criterion_main!(benches);
