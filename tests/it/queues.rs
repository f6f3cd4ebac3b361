//! Real job queues, end to end: apalis 1.0 on Redis
//! (`examples/apalis_redis.rs`) and on SQLite (`examples/apalis_sqlite.rs`).
//! Two web instances and an apalis worker, each a process of its own, on
//! one Redis or one SQLite file: a route on the first pushes a task
//! carrying the job's reference, the worker runs it, and the user's stream
//! on the second follows the job to `done`, finished or failed.

use crate::common::Demo;

/// Every event of a stream as (name, the job in its data), until the
/// server closes it.
async fn events_to_the_close(response: reqwest::Response) -> Vec<(String, serde_json::Value)> {
    crate::common::events_to_the_close(response)
        .await
        .into_iter()
        .map(|(name, data)| {
            let change: serde_json::Value = serde_json::from_str(&data).unwrap();
            (name, change["job"].clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apalis_worker_process_runs_the_tasks_a_route_pushed() {
    require!(crate::common::redis());
    let url = crate::common::redis_url();
    let queue = format!(
        "jobsess-apalis-test-{}",
        &jobsess::redis::RedisJobStore::new_owner_token().unwrap()[..8]
    );
    let envs = [
        ("REDIS_URL", url.as_str()),
        ("QUEUE", queue.as_str()),
        ("STEP_MS", "30"),
    ];
    apalis_end_to_end("apalis_redis", &envs).await;
}

/// The same on one SQLite file: the queue, the jobs and the sessions in
/// it, three processes on it, no service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apalis_worker_process_runs_the_tasks_a_route_pushed_on_sqlite() {
    let path = crate::common::sqlite_path();
    let envs = [
        ("DB", path.to_str().unwrap()),
        ("QUEUE", "exports"),
        ("STEP_MS", "30"),
    ];
    apalis_end_to_end("apalis_sqlite", &envs).await;
}

/// Two web processes and a worker process of `example`: two tasks pushed
/// on the first, followed on the second to their end.
async fn apalis_end_to_end(example: &str, envs: &[(&str, &str)]) {
    let a = Demo::with_args(example, &["web"], envs);
    let b = Demo::with_args(example, &["web"], envs);
    let _worker = Demo::with_args(example, &["worker"], envs);
    let user = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    for (id, query, end) in [
        ("q1", "", serde_json::json!({ "state": "finished" })),
        (
            "q2",
            "?fail_at=50",
            serde_json::json!({ "state": "failed", "reason": "the export broke at 50 %" }),
        ),
    ] {
        let started = user
            .post(format!("{}/exports/{id}{query}", a.base))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 200);
        // the task's payload carries this: the job and a grant, no token
        let reference: serde_json::Value = started.json().await.unwrap();
        let fields: Vec<&String> = reference.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["grant", "job"]);
        let stream = user
            .get(format!("{}/exports/{id}/events", b.base))
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let events = events_to_the_close(stream).await;
        let progress: Vec<u64> = events
            .iter()
            .map(|(_, job)| job["progress"].as_u64().unwrap())
            .collect();
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
        let (last, done) = (&events[events.len() - 2], &events[events.len() - 1]);
        assert_eq!((last.0.as_str(), done.0.as_str()), ("message", "done"));
        assert_eq!(last.1, done.1);
        assert_eq!(done.1["status"], end, "{events:?}");
    }
    // the finished job at 100 %, the failed one where it broke
    let late = user
        .get(format!("{}/exports/q1/events", a.base))
        .send()
        .await
        .unwrap();
    let events = events_to_the_close(late).await;
    assert_eq!(events.len(), 2, "the final state and done: {events:?}");
    assert_eq!(events[1].1["progress"], 100);
}

// ---- a PostgreSQL queue in the app's own transaction: underway 0.2 -------

/// The example's metadata and task types, as the test declares them.
#[derive(serde::Serialize, serde::Deserialize, jobsess::JobMetadata)]
#[job_metadata(prefix = "export", status = status)]
struct ExportJob {
    file: String,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    status: jobsess::Status,
}

#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct ExportTask {
    job: jobsess::store::JobRef,
    fail_at: Option<u8>,
}

/// underway's migrations, once per test process (the examples' processes
/// run them too; sqlx's migrator takes a lock, so they take turns).
async fn underway_pool() -> sqlx::PgPool {
    static MIGRATED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let pool = sqlx::PgPool::connect(&crate::common::database_url())
        .await
        .unwrap();
    MIGRATED
        .get_or_init(|| async { underway::run_migrations(&pool).await.unwrap() })
        .await;
    pool
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_underway_worker_process_runs_the_tasks_a_transaction_enqueued() {
    require!(crate::common::postgres());
    underway_pool().await;
    let url = crate::common::database_url();
    let queue = format!(
        "jobsess_underway_{}",
        &jobsess::redis::RedisJobStore::new_owner_token().unwrap()[..8]
    );
    let envs = [
        ("DATABASE_URL", url.as_str()),
        ("QUEUE", queue.as_str()),
        ("STEP_MS", "30"),
    ];
    let a = Demo::with_args("postgres_queue", &["web"], &envs);
    let b = Demo::with_args("postgres_queue", &["web"], &envs);
    let _worker = Demo::with_args("postgres_queue", &["worker"], &envs);
    let user = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for (id, query, end) in [
        ("p1", "", serde_json::json!({ "state": "finished" })),
        (
            "p2",
            "?fail_at=50",
            serde_json::json!({ "state": "failed", "reason": "the export broke at 50 %" }),
        ),
    ] {
        let started = user
            .post(format!("{}/exports/{id}{query}", a.base))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 200);
        let stream = user
            .get(format!("{}/exports/{id}/events", b.base))
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let events = events_to_the_close(stream).await;
        let (last, done) = (&events[events.len() - 2], &events[events.len() - 1]);
        assert_eq!((last.0.as_str(), done.0.as_str()), ("message", "done"));
        assert_eq!(done.1["status"], end, "{events:?}");
    }
}

/// Each of 1,000 transactions stores a job, makes its reference and
/// enqueues its task, then commits or rolls back at random: afterwards the
/// queue's tasks and jobsess's jobs are the same set, every committed
/// task's reference opens its job, and no rolled-back one opens anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_transactions_leave_tasks_and_jobs_matching() {
    use jobsess::store::JobStore;
    require!(crate::common::postgres());
    let pool = underway_pool().await;
    let queue = format!(
        "jobsess_tx_{}",
        &jobsess::redis::RedisJobStore::new_owner_token().unwrap()[..8]
    );
    let store = jobsess::postgres::PostgresJobStore::new(pool.clone()).with_schema(&queue);
    store.migrate().await.unwrap();
    let tasks: underway::Job<ExportTask, ()> = underway::Job::builder()
        .step(|_cx, _task: ExportTask| async { underway::To::done() })
        .name(queue.as_str())
        .pool(pool.clone())
        .build()
        .await
        .unwrap();
    let token = jobsess::redis::RedisJobStore::new_owner_token().unwrap();
    let jobs = jobsess::AsyncJobSession::<ExportJob, _>::new(store.owner(&token).unwrap());

    // a fixed xorshift, so a failure replays
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut committed, mut rolled_back) = (Vec::new(), Vec::new());
    for i in 0..1000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let id = format!("t{i}");
        let mut tx = pool.begin().await.unwrap();
        let in_tx = jobs.in_transaction(&mut tx);
        let job = ExportJob {
            file: format!("{id}.csv"),
            progress: 0,
            status: jobsess::Status::Queued,
        };
        in_tx.store(&id, &job).await.unwrap();
        let reference = in_tx.reference(&id).await.unwrap();
        drop(in_tx);
        let task = ExportTask {
            job: reference.clone(),
            fail_at: None,
        };
        tasks.enqueue_using(&mut *tx, &task).await.unwrap();
        if seed.is_multiple_of(2) {
            tx.commit().await.unwrap();
            committed.push((id, reference));
        } else {
            tx.rollback().await.unwrap();
            rolled_back.push((id, reference));
        }
    }
    assert!(committed.len() > 400 && rolled_back.len() > 400);

    let mut stored = jobs.ids().await.unwrap();
    stored.sort();
    let inputs: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT input FROM underway.task WHERE task_queue_name = $1")
            .bind(&queue)
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut queued: Vec<String> = inputs
        .iter()
        .map(|input| {
            let reference =
                find_reference(input).unwrap_or_else(|| panic!("no reference in {input}"));
            reference.id().to_owned()
        })
        .collect();
    queued.sort();
    let mut expected: Vec<String> = committed.iter().map(|(id, _)| id.clone()).collect();
    expected.sort();
    assert_eq!(stored, expected, "jobsess's jobs are the committed ones");
    assert_eq!(queued, expected, "the queue's tasks are the committed ones");
    for (id, reference) in &committed {
        let job = store.open::<ExportJob>(reference).await.unwrap();
        assert_eq!(job.load().await.unwrap().unwrap().file, format!("{id}.csv"));
    }
    for (_, reference) in &rolled_back {
        let err = store.open::<ExportJob>(reference).await.unwrap_err();
        assert!(
            matches!(err, jobsess::Error::InvalidReference { .. }),
            "{err:?}"
        );
    }
    sqlx::query("DELETE FROM underway.task WHERE task_queue_name = $1")
        .bind(&queue)
        .execute(&pool)
        .await
        .unwrap();
}

/// The job reference inside a task's stored input, wherever underway put it.
fn find_reference(input: &serde_json::Value) -> Option<jobsess::store::JobRef> {
    if let Ok(task) = serde_json::from_value::<ExportTask>(input.clone()) {
        return Some(task.job);
    }
    match input {
        serde_json::Value::Object(map) => map.values().find_map(find_reference),
        serde_json::Value::Array(items) => items.iter().find_map(find_reference),
        _ => None,
    }
}
