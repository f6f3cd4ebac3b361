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

/// The htmx example: the job page wires htmx's SSE extension to the job's
/// event stream, and the stream sends `progress` events whose data is the
/// HTML fragment of the bar, moving up to 100 %.
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
        r#"hx-ext="sse""#,
        &format!(r#"sse-connect="{page_url}/events""#),
        r#"sse-swap="progress""#,
        r#"<progress value="0" max="100">"#,
    ] {
        assert!(page.contains(wiring), "no {wiring} in {page}");
    }
    // no script of the app's own: only htmx and its extension
    assert_eq!(page.matches("<script").count(), 2, "{page}");

    let mut events = http
        .get(format!("{}{page_url}/events", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let (mut text, mut seen) = (String::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains(&100) {
        assert!(Instant::now() < deadline, "no 100 % in {text}");
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        // each complete event: `event: progress` then its HTML as data
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.starts_with(':') {
                continue; // keep-alive
            }
            assert!(event.contains("event: progress\n"), "{event:?}");
            let value = event
                .split(r#"<progress value=""#)
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no bar in {event:?}"));
            seen.push(value.parse::<u8>().unwrap());
        }
    }
    // in write order, ending at 100 (a watcher may skip states, never go back)
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
}
