//! How often a Redis `update` runs again under contention.

use super::*;

/// How often a Redis `update` has to run again because another writer got
/// in first: `writers` tasks on two pools (two app instances) each update
/// one job `rounds` times. Prints the retries per update; every update must
/// succeed and the counter must come out exact.
pub fn redis_update_contention(url: &str) {
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
