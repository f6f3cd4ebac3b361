//! End-to-end tests of the demo apps over real HTTP on 127.0.0.1: each test
//! starts the examples' own binaries (`examples/axum_app.rs`,
//! `examples/actix_app.rs`) on a free port and drives them with reqwest and
//! a cookie store.

use std::time::Duration;

use crate::common::Demo;

use jobsess_workspace::demo::Status;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

/// A browser: it keeps cookies and shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

async fn serve_axum(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Posts the start form for `file` with `plugin`, in English, as srt.
async fn post_start(
    client: &reqwest::Client,
    base: &str,
    file: &str,
    plugin: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/jobs"))
        .form(&[
            ("file_name", file),
            ("plugin", plugin),
            ("language", "en"),
            ("format", "srt"),
        ])
        .send()
        .await
        .unwrap()
}

async fn start(client: &reqwest::Client, base: &str, file: &str) -> String {
    let response = post_start(client, base, file, "whisper_large").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    location
        .strip_prefix("/jobs/")
        .expect("redirect to the monitor page")
        .to_owned()
}

async fn get(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post(client: &reqwest::Client, url: String) -> StatusCode {
    client.post(url).send().await.unwrap().status()
}

async fn wait_done(client: &reqwest::Client, base: &str, id: &str) -> Status {
    for _ in 0..200 {
        let response = client
            .get(format!("{base}/jobs/{id}/status"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let status: Status = response.json().await.unwrap();
        if status.done {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} never finished");
}

/// Start, monitor until done, results, list, delete, clear all.
async fn full_flow(base: &str) {
    let user = browser();
    let (code, home) = get(&user, format!("{base}/")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(home.contains("No jobs yet."));

    let id = start(&user, base, "interview.mp3").await;
    let (code, monitor) = get(&user, format!("{base}/jobs/{id}")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        monitor.contains("Transcribing <strong>interview.mp3</strong> with Whisper Large"),
        "{monitor}"
    );

    let status = wait_done(&user, base, &id).await;
    assert_eq!(
        (status.progress, status.file.as_str()),
        (100, "interview.mp3")
    );
    let (code, results) = get(&user, format!("{base}/jobs/{id}/results")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        results.contains("<dd class=\"file\">interview.mp3</dd>"),
        "{results}"
    );
    assert!(results.contains("Transcript ready (srt)"), "{results}");

    let second = start(&user, base, "podcast.mp3").await;
    let (_, home) = get(&user, format!("{base}/")).await;
    assert!(home.contains(&id) && home.contains(&second) && home.contains("podcast.mp3"));

    assert_eq!(
        post(&user, format!("{base}/jobs/{id}/delete")).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        get(&user, format!("{base}/jobs/{id}/status")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&user, format!("{base}/jobs/{id}/delete")).await,
        StatusCode::NOT_FOUND
    );
    let (_, home) = get(&user, format!("{base}/")).await;
    assert!(!home.contains(&id) && home.contains(&second));

    start(&user, base, "lecture.mp4").await;
    assert_eq!(
        post(&user, format!("{base}/jobs/clear")).await,
        StatusCode::SEE_OTHER
    );
    let (_, home) = get(&user, format!("{base}/")).await;
    assert!(home.contains("No jobs yet."), "{home}");
}

/// A second user can't see, read, change or delete the first user's jobs.
async fn isolation(base: &str) {
    let alice = browser();
    let mallory = browser();
    let id = start(&alice, base, "secret.mp3").await;
    for path in ["", "/status", "/results"] {
        let (code, body) = get(&mallory, format!("{base}/jobs/{id}{path}")).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("secret.mp3"));
    }
    assert_eq!(
        post(&mallory, format!("{base}/jobs/{id}/delete")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&mallory, format!("{base}/jobs/clear")).await,
        StatusCode::SEE_OTHER
    );
    let (_, home) = get(&mallory, format!("{base}/")).await;
    assert!(!home.contains("secret.mp3"));
    let (code, body) = get(&alice, format!("{base}/jobs/{id}")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.contains("secret.mp3"));
}

/// Garbage or tampered cookies get a fresh, empty session.
async fn bad_cookies(base: &str, cookie_name: &str) {
    let alice = browser();
    start(&alice, base, "mine.mp3").await;
    for garbage in [
        "garbage",
        "%%%%",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &"x".repeat(3000),
    ] {
        let response = reqwest::Client::new()
            .get(format!("{base}/"))
            .header("cookie", format!("{cookie_name}={garbage}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{garbage}");
        let body = response.text().await.unwrap();
        assert!(body.contains("No jobs yet."), "{garbage}");
    }
    let (_, home) = get(&alice, format!("{base}/")).await;
    assert!(home.contains("mine.mp3"));
}

/// Hostile ids in the path are 400s, not crashes.
async fn hostile_ids(base: &str) {
    let user = browser();
    let long = "x".repeat(300);
    for id in ["%01", "%0Aid", long.as_str()] {
        let (code, _) = get(&user, format!("{base}/jobs/{id}/status")).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{id}");
    }
}

#[tokio::test]
async fn axum_full_flow() {
    full_flow(&Demo::axum(&[]).base).await;
}

#[tokio::test]
async fn axum_isolation() {
    isolation(&Demo::axum(&[]).base).await;
}

#[tokio::test]
async fn axum_bad_cookies() {
    bad_cookies(&Demo::axum(&[]).base, "id").await;
}

#[tokio::test]
async fn axum_hostile_ids() {
    hostile_ids(&Demo::axum(&[]).base).await;
}

#[tokio::test]
async fn axum_without_session_layer_is_a_plain_500() {
    use axum::routing::get as route;
    async fn handler(
        jobs: jobsess::axum::Jobs<jobsess_workspace::demo::TranscriptionJob>,
    ) -> String {
        jobs.prefix().to_owned()
    }
    let base = serve_axum(axum::Router::new().route("/", route(handler))).await;
    let (code, body) = get(&browser(), format!("{base}/")).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "internal server error");
}

#[actix_web::test]
async fn actix_full_flow() {
    full_flow(&Demo::actix().base).await;
}

#[actix_web::test]
async fn actix_isolation() {
    isolation(&Demo::actix().base).await;
}

#[actix_web::test]
async fn actix_bad_cookies() {
    bad_cookies(&Demo::actix().base, "id").await;
}

#[actix_web::test]
async fn actix_hostile_ids() {
    hostile_ids(&Demo::actix().base).await;
}

/// The length of the value of the session cookie `name` in a response's
/// `Set-Cookie` headers, as it went over the wire.
fn set_cookie_value_len(response: &reqwest::Response, name: &str) -> Option<usize> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|h| h.to_str().ok())
        .filter_map(|h| h.split(';').next()?.strip_prefix(&format!("{name}=")))
        .map(str::len)
        .next()
}

/// The cookie session has a budget: the start that would outgrow it is a
/// 413, the session is kept as it was, and the cookie still works. Every
/// cookie sent before stays within the budget, measured on the real
/// `Set-Cookie` header.
#[actix_web::test]
async fn actix_cookie_budget() {
    let demo = Demo::actix();
    let base = demo.base.clone();
    let user = browser();
    let long_name = format!("{}.mp3", "n".repeat(250));
    let mut started = Vec::new();
    let mut refused = None;
    for _ in 0..20 {
        let response = post_start(&user, &base, &long_name, "voxtral").await;
        if response.status() == StatusCode::SEE_OTHER {
            let sent = set_cookie_value_len(&response, "id").expect("a session cookie");
            assert!(
                sent <= jobsess::actix::COOKIE_BUDGET,
                "a {sent}-byte cookie went out"
            );
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            started.push(location.trim_start_matches("/jobs/").to_owned());
        } else {
            refused = Some((response.status(), response.text().await.unwrap()));
            break;
        }
    }
    let (code, message) = refused.expect("the budget stops the session from growing");
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    // an HTML page that says what to do, with a way back, and no key names
    assert!(
        message.contains("Too many jobs in this session: delete some."),
        "{message}"
    );
    assert!(message.contains("<form"), "the form says why: {message}");
    assert!(!message.contains("transcription_"), "{message}");
    assert!(started.len() >= 3, "{} jobs fit", started.len());
    // the browser kept the cookie, and every job stored before is still there
    let (code, home) = get(&user, format!("{base}/")).await;
    assert_eq!(code, StatusCode::OK);
    for id in &started {
        assert!(home.contains(id.as_str()), "{id} lost");
    }
    assert_eq!(home.matches("<tr class=\"job\">").count(), started.len());
    // the refused job never ran: it was not stored, so nothing was started
}

/// The form says what is wrong, on the page, and starts nothing; the JSON
/// endpoint answers JSON errors; error pages have a way back.
async fn demo_errors(base: &str) {
    let user = browser();
    for (form, message) in [
        (
            vec![
                ("file_name", "  "),
                ("plugin", "voxtral"),
                ("language", "en"),
                ("format", "srt"),
            ],
            "Give the file&#39;s name.",
        ),
        (vec![("plugin", "voxtral")], "Give the file&#39;s name."),
        (
            vec![
                ("file_name", "a.mp3"),
                ("plugin", "voxtral"),
                ("language", "xx"),
                ("format", "srt"),
            ],
            "Choose one of the languages on offer.",
        ),
        (
            vec![
                ("file_name", "a.mp3"),
                ("plugin", "nope"),
                ("language", "en"),
                ("format", "srt"),
            ],
            "Choose one of the plugins on offer.",
        ),
        (
            vec![
                ("file_name", "a.mp3"),
                ("plugin", "voxtral"),
                ("language", "en"),
                ("format", "doc"),
            ],
            "Choose one of the formats on offer.",
        ),
    ] {
        let response = user
            .post(format!("{base}/jobs"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form:?}"
        );
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.contains("charset=utf-8"), "{content_type}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(message) || body.contains(&message.replace("&#39;", "'")),
            "{body}"
        );
        assert!(body.contains("<form"), "the form is shown again");
    }
    let long = "x".repeat(20_000);
    let response = post_start(&user, base, &long, "voxtral").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, home) = get(&user, format!("{base}/")).await;
    assert!(
        home.contains("No jobs yet."),
        "a refused form started a job"
    );
    // JSON endpoint: a JSON error
    let response = user
        .get(format!("{base}/jobs/job-nope/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"], "Job job-nope not found.");
    // HTML pages: the status and a way back
    for path in ["/jobs/job-nope", "/jobs/bad%07id"] {
        let (code, body) = get(&user, format!("{base}{path}")).await;
        assert!(
            code == StatusCode::NOT_FOUND || code == StatusCode::BAD_REQUEST,
            "{path}: {code}"
        );
        assert!(body.contains(&format!("{} ·", code.as_u16())), "{body}");
        assert!(
            body.contains(r#"<a href="/">Back to your jobs</a>"#),
            "{body}"
        );
    }
}

#[tokio::test]
async fn axum_demo_errors() {
    demo_errors(&Demo::axum(&[]).base).await;
}

#[actix_web::test]
async fn actix_demo_errors() {
    demo_errors(&Demo::actix().base).await;
}

/// The monitor page says "Done" once the job is done.
#[tokio::test]
async fn the_monitor_says_done_at_100() {
    let demo = Demo::axum(&[]);
    let base = demo.base.clone();
    let user = browser();
    let id = start(&user, &base, "done.mp3").await;
    wait_done(&user, &base, &id).await;
    let (_, monitor) = get(&user, format!("{base}/jobs/{id}")).await;
    assert!(
        monitor.contains("Done: <strong>done.mp3</strong>"),
        "{monitor}"
    );
    assert!(!monitor.contains("Transcribing"), "{monitor}");
}

/// A job started on instance A shows on instance B through one Redis.
#[tokio::test]
async fn axum_scale_out_through_redis() {
    require!(crate::common::redis());
    let url = crate::common::redis_url();
    // 20 ms a step, so B's polls see the progress move
    let demo_a = Demo::start("axum_app", 20, &["--redis-url", &url]);
    let demo_b = Demo::axum(&["--redis-url", &url]);
    let (a, b) = (demo_a.base.clone(), demo_b.base.clone());
    let user = browser(); // one cookie jar: both instances are 127.0.0.1
    let id = start(&user, &a, "shared.mp3").await;
    // the job runs on A and writes its progress into Redis as it goes: B,
    // which runs nothing, sees it move and finish
    let mut seen = Vec::new();
    for _ in 0..400 {
        let status: Status = user
            .get(format!("{b}/jobs/{id}/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if seen.last() != Some(&status.progress) {
            seen.push(status.progress);
        }
        if status.done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(seen.last(), Some(&100), "B saw {seen:?}");
    assert!(
        seen.len() >= 2 && seen.windows(2).all(|w| w[0] < w[1]),
        "B saw {seen:?}"
    );
    let (code, body) = get(&user, format!("{b}/jobs/{id}/results")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        body.contains("shared.mp3") && body.contains("Transcript ready"),
        "{body}"
    );
    let (_, home) = get(&user, format!("{b}/")).await;
    assert!(home.contains(&id));
    // and another user on B still sees nothing
    assert_eq!(
        get(&browser(), format!("{b}/jobs/{id}/status")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&user, format!("{b}/jobs/clear")).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        get(&user, format!("{a}/jobs/{id}/status")).await.0,
        StatusCode::NOT_FOUND
    );
}

/// A job started on instance A shows its progress live on instance B,
/// over PostgreSQL alone: sessions in tower-sessions-sqlx-store, the job in
/// the PostgreSQL job store, its progress on B's event stream through
/// LISTEN/NOTIFY (B runs nothing).
#[tokio::test]
async fn axum_live_progress_across_instances_through_postgres() {
    require!(crate::common::postgres());
    let url = crate::common::database_url();
    let demo_a = Demo::start("axum_app", 100, &["--database-url", &url]);
    let demo_b = Demo::axum(&["--database-url", &url]);
    let (a, b) = (demo_a.base.clone(), demo_b.base.clone());
    let user = browser(); // one cookie jar: both instances are 127.0.0.1
    let id = start(&user, &a, "shared.mp3").await;
    let mut events = user
        .get(format!("{b}/jobs/{id}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let seen = crate::examples::progress_events(&mut events, |event| {
        let data = event
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .unwrap_or_else(|| panic!("{event:?}"));
        data.trim().parse().unwrap()
    })
    .await;
    assert!(seen.len() >= 3, "B streamed {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "B streamed {seen:?}");
    let (code, body) = get(&user, format!("{b}/jobs/{id}/results")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.contains("shared.mp3"), "{body}");
    // another user on B sees nothing of it
    assert_eq!(
        get(&browser(), format!("{b}/jobs/{id}/status")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn axum_full_flow_on_postgres() {
    require!(crate::common::postgres());
    let url = crate::common::database_url();
    full_flow(&Demo::axum(&["--database-url", &url]).base).await;
}

#[tokio::test]
async fn axum_full_flow_on_sqlite() {
    let path = crate::common::sqlite_path();
    full_flow(&Demo::axum(&["--sqlite", path.to_str().unwrap()]).base).await;
}

/// Two demo processes on one SQLite file, and no service: A runs the job,
/// B streams its progress live (the change log, read when the file
/// changes), and shows its results.
#[tokio::test]
async fn axum_live_progress_across_processes_through_sqlite() {
    let path = crate::common::sqlite_path();
    let path = path.to_str().unwrap();
    let demo_a = Demo::start("axum_app", 100, &["--sqlite", path]);
    let demo_b = Demo::axum(&["--sqlite", path]);
    let (a, b) = (demo_a.base.clone(), demo_b.base.clone());
    let user = browser(); // one cookie jar: both instances are 127.0.0.1
    let id = start(&user, &a, "shared.mp3").await;
    let mut events = user
        .get(format!("{b}/jobs/{id}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let seen = crate::examples::progress_events(&mut events, |event| {
        let data = event
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .unwrap_or_else(|| panic!("{event:?}"));
        data.trim().parse().unwrap()
    })
    .await;
    assert!(seen.len() >= 3, "B streamed {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "B streamed {seen:?}");
    let (code, body) = get(&user, format!("{b}/jobs/{id}/results")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.contains("shared.mp3"), "{body}");
    assert_eq!(
        get(&browser(), format!("{b}/jobs/{id}/status")).await.0,
        StatusCode::NOT_FOUND
    );
}

/// The demo on a SQLite file is stopped and started again: the user's
/// session and jobs are still there, with the progress they had.
#[tokio::test]
async fn a_job_survives_a_restart_of_the_sqlite_demo() {
    let path = crate::common::sqlite_path();
    let path = path.to_str().unwrap();
    let user = browser();
    let demo = Demo::start("axum_app", 5, &["--sqlite", path]);
    let id = start(&user, &demo.base, "kept.mp3").await;
    let done = wait_done(&user, &demo.base, &id).await;
    assert_eq!(done.progress, 100);
    let before = get(&user, format!("{}/", demo.base)).await.1;
    drop(demo); // killed
    let again = Demo::start("axum_app", 5, &["--sqlite", path]);
    // the cookie jar is the browser's: its session is in the file too
    let (code, home) = get(&user, format!("{}/", again.base)).await;
    assert_eq!(code, StatusCode::OK);
    assert!(home.contains("kept.mp3"), "{home}");
    assert_eq!(home, before, "the same jobs, the same progress");
    let status = wait_done(&user, &again.base, &id).await;
    assert_eq!(status.progress, 100);
    let (code, results) = get(&user, format!("{}/jobs/{id}/results", again.base)).await;
    assert_eq!(code, StatusCode::OK);
    assert!(results.contains("kept.mp3"), "{results}");
}

#[tokio::test]
async fn axum_full_flow_on_redis() {
    require!(crate::common::redis());
    let url = crate::common::redis_url();
    full_flow(&Demo::axum(&["--redis-url", &url]).base).await;
}

/// A signed cookie percent-encodes the session JSON, so it grows much
/// faster than the JSON: the budget measures the cookie as it is sent. A
/// small app stores jobs of 300 bytes each until the budget refuses one;
/// every `Set-Cookie` before stays within it, the last one close to it.
#[actix_web::test]
async fn actix_signed_cookie_budget_measures_the_sent_cookie() {
    use actix_session::SessionMiddleware;
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use jobsess::actix::{COOKIE_BUDGET, CookieSecurity, Jobs, JobsConfig};

    #[derive(serde::Serialize, serde::Deserialize, jobsess::JobMetadata)]
    struct Note {
        text: String,
    }

    async fn add(
        mut jobs: Jobs<Note>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, jobsess::Error> {
        jobs.store(
            &id,
            &Note {
                text: "{\"x\": [1, 2]}; ".repeat(20),
            },
        )?;
        Ok(HttpResponse::Ok().finish())
    }

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let key = actix_web::cookie::Key::generate();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_content_security(CookieContentSecurity::Signed)
                    .cookie_secure(false)
                    .build(),
            )
            .app_data(JobsConfig::cookie(CookieSecurity::Signed))
            .route("/add/{id}", web::post().to(add))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);

    let user = browser();
    let mut largest = 0;
    for n in 0..40 {
        let response = user.post(format!("{base}/add/n{n}")).send().await.unwrap();
        if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
            assert!(n >= 3, "only {n} notes fit");
            // the last cookie sent is within a note's size of the budget
            assert!(
                largest > COOKIE_BUDGET - 1200,
                "the last cookie was {largest} bytes"
            );
            return;
        }
        assert_eq!(response.status(), StatusCode::OK);
        let sent = set_cookie_value_len(&response, "id").expect("a session cookie");
        assert!(
            sent <= COOKIE_BUDGET,
            "a {sent}-byte signed cookie went out"
        );
        largest = largest.max(sent);
    }
    panic!("the budget never refused a note; the last cookie was {largest} bytes");
}

/// The cookie budget's estimate against the cookie actually sent, for a
/// signed and a private cookie, as a session grows to 10 jobs, once the
/// cookie is 2,000 bytes or more (the size a budget decides on): a signed
/// one within 1 % each; a private one within 0.5 % in the median, and each
/// within four standard deviations of its random part (how many of its
/// base64 characters are `/`, sent as `%2F`: 1.6 % at 4,000 B).
#[actix_web::test]
async fn the_cookie_estimate_is_within_one_percent_of_the_cookie_sent() {
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_session::{Session, SessionMiddleware};
    use actix_web::{App, HttpResponse, HttpServer, web};
    use jobsess::actix::{CookieSecurity, CookieSession};
    use jobsess::{JobSession, UntypedJob};

    async fn add(
        session: Session,
        security: web::Data<CookieSecurity>,
        id: web::Path<String>,
    ) -> Result<HttpResponse, jobsess::Error> {
        let cookie = CookieSession::new(session, **security);
        let mut jobs = JobSession::<UntypedJob, _>::new(cookie.clone());
        // a job of about 350 bytes, with text the JSON and the cookie escape
        let mut job = UntypedJob::new();
        job.insert(
            "file".into(),
            serde_json::json!(format!("/media/{id}/a b\"c\".mp3")),
        );
        job.insert(
            "notes".into(),
            serde_json::json!("é; {x: [1, 2]} / ok\n".repeat(12)),
        );
        jobs.store(&id, &job)?;
        Ok(HttpResponse::Ok()
            .insert_header(("x-estimate", cookie.cookie_len()?.to_string()))
            .finish())
    }

    for (security, content) in [
        (CookieSecurity::Signed, CookieContentSecurity::Signed),
        (CookieSecurity::Private, CookieContentSecurity::Private),
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let key = actix_web::cookie::Key::generate();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_content_security(content)
                        .cookie_secure(false)
                        .build(),
                )
                .app_data(web::Data::new(security))
                .route("/add/{id}", web::post().to(add))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        // several users, so the private cookies' random bytes vary
        let mut offs: Vec<f64> = Vec::new();
        for _user in 0..4 {
            let user = browser();
            for n in 0..10 {
                let response = user
                    .post(format!("{base}/add/job-{n}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let estimate: usize = response.headers()["x-estimate"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let sent = set_cookie_value_len(&response, "id").expect("a session cookie");
                #[allow(clippy::cast_precision_loss)]
                let off = (estimate as f64 - sent as f64).abs() / sent as f64;
                if sent >= 2000 {
                    // a signed cookie's only unknown is its digest's `/`s; a
                    // private one's base64 is random throughout: its `/`s
                    // (each sent as 3 bytes) vary by about 0.4 % of 4,000 B
                    // (σ of the `/` count: √(chars/64); 4σ of 2 bytes each)
                    #[allow(clippy::cast_precision_loss)]
                    let bound = match security {
                        CookieSecurity::Signed => 0.01,
                        _ => 8.0 * (sent as f64 / 64.0).sqrt() / sent as f64,
                    };
                    assert!(
                        off <= bound,
                        "{security:?}: estimated {estimate} B, sent {sent} B ({:.2} %)",
                        off * 100.0
                    );
                    offs.push(off);
                } else {
                    // small private cookies: the same four standard
                    // deviations of the `/` count (2.8 % at 512 B)
                    #[allow(clippy::cast_precision_loss)]
                    let random = 8.0 * (sent as f64 / 64.0).sqrt() / sent as f64;
                    let bound = match security {
                        CookieSecurity::Signed => 0.03,
                        _ => random.max(0.03),
                    };
                    assert!(off <= bound, "{security:?}: {estimate} B for {sent} B");
                }
            }
        }
        assert!(
            offs.len() >= 12,
            "{security:?}: only {} cookies of 2,000 B or more",
            offs.len()
        );
        offs.sort_by(f64::total_cmp);
        let median = offs[offs.len() / 2];
        assert!(
            median <= 0.005,
            "{security:?}: median error {:.2} %",
            median * 100.0
        );
        handle.stop(true).await;
    }
}

/// The axum demo on a Redis of its own (sessions and jobs there), through a
/// restart of that Redis: requests answer 503 while it is down, and 2xx
/// again within a second of its restart, with the app never restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_recovers_after_its_redis_restarts() {
    use crate::servers::{OwnRedis, listening, redis_server};
    require!(crate::common::tools(&["redis-server"]));
    let mut redis = OwnRedis::start().expect("redis-server starts on a free port");
    let port = redis.1;
    let demo = Demo::axum(&["--redis-url", &format!("redis://127.0.0.1:{port}")]);
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let home = format!("{}/", demo.base);
    assert!(http.get(&home).send().await.unwrap().status().is_success());

    let _ = redis.0.kill();
    let _ = redis.0.wait();
    let status = http.get(&home).send().await.unwrap().status();
    assert_eq!(status, 503, "while Redis is down");

    let mut restarted = redis_server(port, &["--appendonly".as_ref(), "no".as_ref()]).unwrap();
    assert!(listening(port));
    let back = std::time::Instant::now();
    loop {
        let status = http.get(&home).send().await.map(|r| r.status());
        if status.as_ref().is_ok_and(|s| s.is_success()) {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(1),
            "still {status:?} {:?} after the restart",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("2xx again {:?} after the restart", back.elapsed());
    let _ = restarted.kill();
    let _ = restarted.wait();
}
