//! What the microbenches share: the pair runners (a criterion group of a
//! floor and jobsess, or paired rounds with `JOBSESS_BENCH_PAIRED`), the
//! hand-written floor on a map, and the helpers of the update and cookie
//! groups. The lab (`bench/`) uses them too.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use jobsess::AsyncJobSession;

use super::job::{ID, TranscriptionJob};
use super::pairs;

/// The floor: what a hand-written handler does, building its key each time.
pub mod floor {
    use super::super::job::{PluginInfo, TranscriptionJob};
    use serde::Deserialize;
    use serde_json::Value;
    use std::collections::HashMap;

    pub fn store(map: &mut HashMap<String, Value>, id: &str, job: &TranscriptionJob) {
        let value = serde_json::to_value(job).expect("encodes");
        map.insert(format!("job_{id}"), value);
    }

    pub fn load(map: &HashMap<String, Value>, id: &str) -> Option<TranscriptionJob> {
        map.get(&format!("job_{id}"))
            .map(|v| TranscriptionJob::deserialize(v).expect("decodes"))
    }

    pub fn load_plugin(map: &HashMap<String, Value>, id: &str) -> Option<PluginInfo> {
        map.get(&format!("job_{id}"))
            .map(|v| PluginInfo::deserialize(&v["plugin_info"]).expect("decodes"))
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// The pair `name` as a criterion group of `baseline` and `jobsess`, or,
/// with `JOBSESS_BENCH_PAIRED`, in paired rounds (`common::pairs`).
pub fn sync_pair(
    c: &mut Criterion,
    name: &str,
    mut baseline: impl FnMut(),
    mut jobsess: impl FnMut(),
) {
    if pairs::paired_mode() {
        if pairs::chosen(name) {
            pairs::paired_calls(
                name,
                "jobsess",
                &mut |calls| (0..calls).for_each(|_| baseline()),
                &mut |calls| (0..calls).for_each(|_| jobsess()),
            );
        }
        return;
    }
    let mut group = c.benchmark_group(name);
    group.bench_function("baseline", |b| b.iter(&mut baseline));
    group.bench_function("jobsess", |b| b.iter(&mut jobsess));
    group.finish();
}

/// [`sync_pair`] for async calls, each awaited on `rt`.
pub fn async_pair<B, BF, J, JF>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    baseline: B,
    jobsess: J,
) where
    B: Fn() -> BF,
    BF: Future<Output = ()>,
    J: Fn() -> JF,
    JF: Future<Output = ()>,
{
    if pairs::paired_mode() {
        if pairs::chosen(name) {
            pairs::paired_calls(
                name,
                "jobsess",
                &mut |calls| {
                    rt.block_on(async {
                        for _ in 0..calls {
                            baseline().await;
                        }
                    });
                },
                &mut |calls| {
                    rt.block_on(async {
                        for _ in 0..calls {
                            jobsess().await;
                        }
                    });
                },
            );
        }
        return;
    }
    let mut group = c.benchmark_group(name);
    group.bench_function("baseline", |b| b.to_async(rt).iter(&baseline));
    group.bench_function("jobsess", |b| b.to_async(rt).iter(&jobsess));
    group.finish();
}

/// A group `name`: `update` on `jobs` beside the `load` + change + `store`
/// it replaces (target: ≤1.2×). Job `ID` must be stored.
pub fn update_against_load_store<S: jobsess::AsyncSessionBackend>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    jobs: &AsyncJobSession<TranscriptionJob, S>,
) {
    let mut group = c.benchmark_group(name);
    group.bench_function("baseline", |b| {
        b.to_async(rt).iter(|| async {
            let mut job = jobs
                .load(black_box(ID))
                .await
                .expect("loads")
                .expect("a job");
            job.file_info.size += 1;
            jobs.store(black_box(ID), &job).await.expect("stores");
            black_box(job)
        });
    });
    group.bench_function("jobsess", |b| {
        b.to_async(rt).iter(|| async {
            black_box(
                jobs.update(black_box(ID), |job| job.file_info.size += 1)
                    .await
                    .expect("updates"),
            )
        });
    });
    group.finish();
}

/// Posts once to `seed` through `call` (one request to an actix-web test
/// service), then times `iters` posts to `write`, each carrying the session
/// cookie the seed answered with.
pub async fn seeded_writes<B>(
    call: impl AsyncFn(actix_web::test::TestRequest) -> actix_web::dev::ServiceResponse<B>,
    seed: &str,
    write: &str,
    iters: u64,
) -> Duration {
    use actix_web::test::TestRequest;
    let seeded = call(TestRequest::post().uri(seed)).await;
    assert!(seeded.status().is_success(), "{}", seeded.status());
    let cookie = seeded
        .response()
        .cookies()
        .next()
        .expect("a session cookie")
        .into_owned();
    let started = Instant::now();
    for _ in 0..iters {
        let response = call(TestRequest::post().uri(write).cookie(cookie.clone())).await;
        assert!(response.status().is_success(), "{}", response.status());
        black_box(response);
    }
    started.elapsed()
}
