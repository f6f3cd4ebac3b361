//! `AsyncJobSession` over a `Mutex` of a map shared by tasks: field reads
//! and writes run under one lock, so concurrent patches lose nothing, and
//! errors are the same as on the sync handle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jobsess::{AsyncJobSession, Error, Field, UntypedJob};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_field_writes_on_a_shared_map_lose_nothing() {
    const FIELDS: [&str; 16] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
    ];
    let session: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    let jobs = AsyncJobSession::<UntypedJob, _>::new(Arc::clone(&session));
    jobs.store("shared", &UntypedJob::new()).await.unwrap();
    let tasks: Vec<_> = FIELDS
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let jobs = jobs.clone();
            tokio::spawn(async move {
                for round in 0..50 {
                    jobs.store_field("shared", Field::untyped(name), &json!(i * 1000 + round))
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stored = jobs.load("shared").await.unwrap().unwrap();
    assert_eq!(stored.len(), FIELDS.len());
    for (i, name) in FIELDS.into_iter().enumerate() {
        assert_eq!(stored[name], json!(i * 1000 + 49), "{name}");
    }
}

#[tokio::test]
async fn field_access_errors_are_the_handles_own() {
    let session = Mutex::new(HashMap::from([
        ("job_null".to_owned(), Value::Null),
        (
            "job_ok".to_owned(),
            json!({"status": "running", "other": [1, 2]}),
        ),
    ]));
    let jobs = AsyncJobSession::<UntypedJob, _>::new(session);
    let err = jobs
        .store_field("null", Field::untyped("status"), &json!("done"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotAnObject { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "job_null as Map<String, Value>: stored value is null, expected a JSON object of job metadata"
    );
    let err = jobs
        .load_field("null", Field::untyped("status"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotAnObject { .. }), "{err:?}");
    assert!(matches!(
        jobs.store_field("missing", Field::untyped("status"), &json!(1))
            .await,
        Err(Error::JobNotFound { .. })
    ));
    assert_eq!(
        jobs.load_field("ok", Field::untyped("status"))
            .await
            .unwrap(),
        Some(json!("running"))
    );
    assert_eq!(
        jobs.load_field("ok", Field::untyped("absent"))
            .await
            .unwrap(),
        Some(Value::Null)
    );
    jobs.store_field("ok", Field::untyped("status"), &json!("done"))
        .await
        .unwrap();
    assert_eq!(
        jobs.load("ok").await.unwrap().map(Value::Object),
        Some(json!({"status": "done", "other": [1, 2]}))
    );
    assert_eq!(jobs.session().lock().unwrap()["job_null"], Value::Null);
}
