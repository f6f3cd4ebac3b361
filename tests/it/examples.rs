//! The small examples a user copies, run as their own binaries and driven
//! over HTTP.

use std::time::{Duration, Instant};

use crate::common::Demo;

/// A client that keeps cookies and doesn't follow redirects.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The progress values of a server-sent event stream, each event read by
/// `value` (keep-alive comments left out), up to the first 100, each within
/// 5 s.
pub(crate) async fn progress_events(
    events: &mut reqwest::Response,
    mut value: impl FnMut(&str) -> u8,
) -> Vec<u8> {
    let (mut text, mut seen) = (String::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.last() != Some(&100) {
        assert!(Instant::now() < deadline, "no 100 % in {seen:?}");
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if !event.starts_with(':') {
                seen.push(value(&without_ids(&event)));
            }
        }
    }
    seen
}

/// The htmx example, on htmx 4: the job page wires `hx-sse:connect` to the
/// job's event stream and closes it on `done`; the stream sends unnamed
/// events whose data is the HTML fragment of the bar, moving up to 100 %,
/// then `done`, then it closes. The jobs are the visitor's: another
/// visitor's session can't see them.
#[tokio::test]
async fn htmx_progress_bar_moves_over_server_sent_events() {
    let demo = Demo::small("htmx_progress", &[("STEP_MS", "30")]);
    let http = client();
    let started = http
        .post(format!("{}/jobs", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let page_url = started.headers()["location"].to_str().unwrap().to_owned();
    let page = http
        .get(format!("{}{page_url}", demo.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for wiring in [
        &format!(r#"hx-sse:connect="{page_url}/events""#),
        r#"hx-sse:close="done""#,
        "htmx.org@4.0.1/dist/htmx.min.js",
        "htmx.org@4.0.1/dist/ext/hx-sse.js",
        r#"<progress value="0" max="100">"#,
    ] {
        assert!(page.contains(wiring), "no {wiring} in {page}");
    }
    // htmx 2's attributes, which htmx 4 ignores, are not used
    assert!(!page.contains("sse-swap"), "{page}");
    // no script of the app's own: only htmx and its extension
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    // another visitor has no such job
    let other = client()
        .get(format!("{}{page_url}", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    let mut events = http
        .get(format!("{}{page_url}/events", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    // each event: unnamed (htmx 4 swaps those in), the bar's HTML as data
    let seen = progress_events(&mut events, |event| {
        assert!(!event.contains("event:"), "{event:?}");
        let value = event
            .split(r#"<progress value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no bar in {event:?}"));
        value.parse().unwrap()
    })
    .await;
    // in write order, ending at 100 (a watcher may skip states, never go back)
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    // the worker finishes the job: `done`, then the server closes the stream
    let rest = rest_of_stream(&mut events).await;
    assert!(
        rest.trim_end().ends_with("event: done"),
        "no done before the close: {rest:?}"
    );
}

/// The status of a request's answer.
async fn status(request: reqwest::RequestBuilder) -> reqwest::StatusCode {
    request.send().await.unwrap().status()
}

/// A request's answer, as JSON.
async fn json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    request.send().await.unwrap().json().await.unwrap()
}

/// The flow both minimal apps serve, over HTTP with the session cookie.
async fn minimal_flow(base: &str) {
    let http = client();
    let url = |path: &str| format!("{base}{path}");
    let ok = |status: reqwest::StatusCode| assert!(status.is_success(), "{status}");
    ok(status(http.post(url("/jobs/job-1?file=report.csv"))).await);
    ok(status(http.post(url("/jobs/job-1/progress/40"))).await);
    let job: serde_json::Value = json(http.get(url("/jobs/job-1"))).await;
    assert_eq!(
        job,
        serde_json::json!({ "file": "report.csv", "progress": 40 })
    );
    let ids: Vec<String> = json(http.get(url("/jobs"))).await;
    assert_eq!(ids, ["job-1"]);
    // another user (no cookie) sees none of it
    let other: Vec<String> = json(client().get(url("/jobs"))).await;
    assert!(other.is_empty());
    // a progress that is no u8 is refused by the route (axum 400, actix
    // 404), a bad id by jobsess (400)
    assert!(
        status(http.post(url("/jobs/job-1/progress/400")))
            .await
            .is_client_error()
    );
    assert_eq!(status(http.post(url("/jobs/%01/progress/4"))).await, 400);
    ok(status(http.delete(url("/jobs/job-1"))).await);
    assert_eq!(status(http.delete(url("/jobs/job-1"))).await, 404);
    assert_eq!(status(http.get(url("/jobs/job-1"))).await, 404);
}

#[tokio::test]
async fn the_minimal_axum_app() {
    let demo = Demo::small("axum_minimal", &[]);
    minimal_flow(&demo.base).await;
}

#[tokio::test]
async fn the_minimal_actix_app() {
    let demo = Demo::small("actix_minimal", &[]);
    minimal_flow(&demo.base).await;
}

/// The Redis example: a job started over HTTP streams its progress as
/// JSON `message` events, from 0 up to 100.
#[tokio::test]
async fn redis_progress_streams_the_jobs_progress() {
    require!(crate::common::redis());
    let url = crate::common::redis_url();
    let demo = Demo::small("redis_progress", &[("REDIS_URL", &url), ("STEP_MS", "20")]);
    let http = client();
    let started = http
        .post(format!("{}/jobs/job-1", demo.base))
        .send()
        .await
        .unwrap();
    assert!(started.status().is_success(), "{}", started.status());
    let mut events = http
        .get(format!("{}/jobs/job-1/events", demo.base))
        .send()
        .await
        .unwrap();
    // each event: a `message` whose data is the progress as JSON
    let seen = progress_events(&mut events, |event| {
        let data = event
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("{event:?}"));
        data.trim().parse().unwrap()
    })
    .await;
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    // the job is finished at 100: `done`, then the server closes the stream
    let rest = rest_of_stream(&mut events).await;
    assert_eq!(rest.trim_end(), "data: 100\nevent: done", "{rest:?}");
    // a client that comes after the end: the final progress, done, the close
    let mut late = http
        .get(format!("{}/jobs/job-1/events", demo.base))
        .send()
        .await
        .unwrap();
    let all = rest_of_stream(&mut late).await;
    assert_eq!(
        all.trim_end(),
        "data: 100\n\ndata: 100\nevent: done",
        "{all:?}"
    );
    let job: serde_json::Value = http
        .get(format!("{}/jobs/job-1", demo.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["progress"], 100);
    assert_eq!(job["status"], serde_json::json!({ "state": "finished" }));
}

/// What is left of an event stream until the server closes it (keep-alive
/// comments left out); fails if it stays open 10 s.
async fn rest_of_stream(events: &mut reqwest::Response) -> String {
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("the server closes the stream within 10 s")
        .unwrap()
    {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text.split_inclusive("\n\n")
        .filter(|event| !event.starts_with(':'))
        .map(without_ids)
        .collect()
}

/// An event's text without its `id:` and `retry:` lines, which say which
/// state it is and when to reconnect (`tests/it/watch.rs` checks them):
/// what is left is what a page shows.
fn without_ids(event: &str) -> String {
    event
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("id:") && !line.starts_with("retry:"))
        .collect()
}
