//! Real job queues, end to end: apalis 1.0 on Redis
//! (`examples/apalis_redis.rs`). Two web instances and an apalis worker,
//! each a process of its own, on one Redis: a route on the first pushes a
//! task carrying the job's reference, the worker runs it, and the user's
//! stream on the second follows the job to `done`, finished or failed.

use std::time::Duration;

use crate::common::Demo;

/// Every event of a stream as (name, data), until the server closes it.
async fn events_to_the_close(mut response: reqwest::Response) -> Vec<(String, serde_json::Value)> {
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), response.chunk())
        .await
        .expect("the server closes the stream within 20 s")
        .unwrap()
    {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text.split("\n\n")
        .filter_map(|event| {
            let (mut name, mut data) = ("message".to_owned(), None);
            for line in event.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data = Some(serde_json::from_str(value.trim()).unwrap());
                }
            }
            data.map(|data: serde_json::Value| (name, data["job"].clone()))
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
    let a = Demo::with_args("apalis_redis", &["web"], &envs);
    let b = Demo::with_args("apalis_redis", &["web"], &envs);
    let _worker = Demo::with_args("apalis_redis", &["worker"], &envs);
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
