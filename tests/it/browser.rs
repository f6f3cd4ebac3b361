//! The examples in a real browser: headless Chromium, driven through
//! chromedriver (WebDriver). The axum demo from the start form through the
//! monitor and results pages to delete and "Clear all" (with its
//! confirmation), and the error pages with their way back; the htmx
//! example on htmx 2 and 4, the real files of the npm registry. Skipped,
//! by name, where `chromium`, `chromedriver` or `npm` is missing (`.ci/run`
//! installs them from Debian).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Demo;
use fantoccini::{Client, ClientBuilder, Locator};

/// chromedriver on a free port, killed when dropped.
struct Driver(Child, u16);

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Driver(child, port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not listen on {port}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,800"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a browser session")
}

/// The page's source once it contains `text`, within 20 s (the monitor
/// page reloads itself every second).
async fn wait_for(page: &Client, text: &str) -> String {
    let started = Instant::now();
    loop {
        let source = page.source().await.unwrap();
        if source.contains(text) {
            return source;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no {text:?} in {source}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the element `locator` finds.
async fn click(page: &Client, locator: Locator<'_>) {
    page.find(locator).await.unwrap().click().await.unwrap();
}

async fn start_job(page: &Client, base: &str, file: &str) {
    page.goto(&format!("{base}/")).await.unwrap();
    let name = page
        .find(Locator::Css("input[name=file_name]"))
        .await
        .unwrap();
    name.clear().await.unwrap();
    name.send_keys(file).await.unwrap();
    click(page, Locator::Css("form[action='/jobs'] button")).await;
    // the monitor page of the new job
    wait_for(page, &format!("<strong>{file}</strong>")).await;
}

#[tokio::test]
async fn the_axum_demo_in_a_browser() {
    require!(crate::common::browser());
    let demo = Demo::start("axum_app", 20, &[]);
    let driver = Driver::start();
    let page = browser(&driver).await;
    let base = demo.base.clone();

    // start -> monitor, which says "Done" at 100 % -> results
    start_job(&page, &base, "lecture.mp3").await;
    let monitor = wait_for(&page, "Done: <strong>lecture.mp3</strong>").await;
    assert!(
        page.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/jobs/job-"),
        "{monitor}"
    );
    click(&page, Locator::LinkText("See the results")).await;
    wait_for(&page, "Transcript ready (srt)").await;

    // home lists it; delete it
    page.goto(&format!("{base}/")).await.unwrap();
    wait_for(&page, "lecture.mp3").await;
    click(&page, Locator::Css("tr.job button")).await;
    wait_for(&page, "No jobs yet.").await;

    // two jobs, then "Clear all", which asks first
    start_job(&page, &base, "one.mp3").await;
    start_job(&page, &base, "two.mp3").await;
    page.goto(&format!("{base}/")).await.unwrap();
    wait_for(&page, "two.mp3").await;
    click(&page, Locator::Css("form[action='/jobs/clear'] button")).await;
    assert_eq!(
        page.get_alert_text().await.unwrap(),
        "Delete all your jobs?"
    );
    page.dismiss_alert().await.unwrap();
    assert!(
        page.source().await.unwrap().contains("one.mp3"),
        "dismissed: nothing cleared"
    );
    click(&page, Locator::Css("form[action='/jobs/clear'] button")).await;
    page.accept_alert().await.unwrap();
    wait_for(&page, "No jobs yet.").await;

    // a blank file name: the form says why (past the browser's own check)
    page.goto(&format!("{base}/")).await.unwrap();
    page.execute(
        "document.querySelector('input[name=file_name]').removeAttribute('required');\
         document.querySelector('input[name=file_name]').value = '   ';",
        vec![],
    )
    .await
    .unwrap();
    click(&page, Locator::Css("form[action='/jobs'] button")).await;
    wait_for(&page, "Give the file's name.").await;

    // an unknown job: an error page with its status and a way back
    page.goto(&format!("{base}/jobs/job-unknown"))
        .await
        .unwrap();
    wait_for(&page, "404 · Not found").await;
    click(&page, Locator::LinkText("Back to your jobs")).await;
    wait_for(&page, "Start transcription").await;

    // a screenshot of the home page, for a person to look at
    let png = page.screenshot().await.unwrap();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-home.png");
    std::fs::write(&out, png).unwrap();
    page.close().await.unwrap();
}

/// Two instances of the axum demo on one Redis: a job started on A, its
/// monitor page opened on B. The page's progress bar moves as the job on A
/// writes its progress, with no reload (a marker set in the page survives),
/// until the job is done.
#[tokio::test]
async fn the_monitor_page_follows_a_job_live_across_instances() {
    require!(crate::common::browser(), crate::common::redis());
    let url = crate::common::redis_url();
    let a = Demo::start("axum_app", 300, &["--redis-url", &url]);
    let b = Demo::start("axum_app", 300, &["--redis-url", &url]);
    let driver = Driver::start();
    let page = browser(&driver).await;

    start_job(&page, &a.base, "live.mp3").await;
    let path = page.current_url().await.unwrap().path().to_owned();
    // the same browser, so the same session cookie (cookies ignore ports)
    page.goto(&format!("{}{path}", b.base)).await.unwrap();
    wait_for(&page, "Transcribing <strong>live.mp3</strong>").await;
    page.execute("window.stayed = true;", vec![]).await.unwrap();

    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let state = page
            .execute(
                "return [window.stayed === true, document.querySelector('progress').value];",
                vec![],
            )
            .await
            .unwrap();
        let (stayed, value) = (state[0].as_bool(), state[1].as_u64());
        if stayed != Some(true) {
            break; // reloaded: at 100 % the page shows the done state
        }
        let value = value.unwrap();
        if seen.last() != Some(&value) {
            seen.push(value);
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // several steps seen in place, each larger than the one before
    assert!(seen.len() >= 3, "the bar moved in place only {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    wait_for(&page, "Done: <strong>live.mp3</strong>").await;
    page.close().await.unwrap();
}

/// The npm package `spec` (`htmx.org@4.0.1`) unpacked: its `package/`
/// folder, fetched once with `npm pack` into the tests' own temp folder.
fn npm_package(spec: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("npm")
        .join(spec);
    let package = dir.join("package");
    if package.join("package.json").is_file() {
        return package;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let packed = Command::new("npm")
        .args(["pack", spec, "--silent", "--pack-destination"])
        .arg(&dir)
        .output()
        .expect("npm runs");
    assert!(
        packed.status.success(),
        "npm pack {spec}: {}",
        String::from_utf8_lossy(&packed.stderr)
    );
    let tarball = String::from_utf8(packed.stdout).unwrap();
    let tarball = dir.join(
        tarball
            .trim()
            .lines()
            .last()
            .expect("npm names the tarball"),
    );
    let unpacked = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&dir)
        .status()
        .expect("tar runs");
    assert!(unpacked.success(), "tar xzf {}", tarball.display());
    package
}

/// A folder with htmx (`htmx.min.js`) and its SSE extension (`sse.js`),
/// each a `(package, path in it)` of the npm registry's packages.
fn htmx_dir(version: &str, core: (&str, &str), sse: (&str, &str)) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("htmx-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    for ((package, path), name) in [(core, "htmx.min.js"), (sse, "sse.js")] {
        std::fs::copy(npm_package(package).join(path), dir.join(name)).unwrap();
    }
    dir
}

/// The value of the page's `progress` bar.
async fn progress_of(page: &Client) -> u64 {
    let value = page
        .execute("return document.querySelector('progress').value", vec![])
        .await
        .unwrap();
    value.as_u64().unwrap_or_else(|| panic!("{value}"))
}

/// How many event streams the page has opened since it was loaded.
async fn streams_opened(page: &Client) -> serde_json::Value {
    page.execute(
        "return performance.getEntriesByType('resource')\
         .filter(e => e.name.endsWith('/events')).length",
        vec![],
    )
    .await
    .unwrap()
}

/// The npm registry's files of htmx 4.0.1 and 2.0.4 (with htmx-ext-sse
/// 2.2.2), each in a folder an example serves: `(version, folder)`.
fn htmx_versions() -> [(&'static str, std::path::PathBuf); 2] {
    [
        (
            "4",
            htmx_dir(
                "4",
                ("htmx.org@4.0.1", "dist/htmx.min.js"),
                ("htmx.org@4.0.1", "dist/ext/hx-sse.js"),
            ),
        ),
        (
            "2",
            htmx_dir(
                "2",
                ("htmx.org@2.0.4", "dist/htmx.min.js"),
                ("htmx-ext-sse@2.2.2", "sse.js"),
            ),
        ),
    ]
}

/// Every value the page's bar shows until it shows `until`, polled every
/// 20 ms; it must never go back.
async fn bar_values(page: &Client, until: u64, what: &str) -> Vec<u64> {
    let (started, mut seen) = (Instant::now(), Vec::<u64>::new());
    loop {
        let value = progress_of(page).await;
        if let Some(&last) = seen.last() {
            assert!(
                value >= last,
                "{what}: the bar went back from {last} to {value}: {seen:?}"
            );
        }
        if seen.last() != Some(&value) {
            seen.push(value);
        }
        if value >= until {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: the bar stopped at {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `examples/htmx_progress.rs` in Chromium, with the real htmx of the npm
/// registry, on htmx 4 (its `hx-sse:connect`, unnamed events) and on htmx
/// 2 (`sse-connect`, `sse-swap`): started from its form, the job's bar
/// moves live through values on the way to 100 with no reload. Its first
/// stream is cut by the server after four events (`CUT_STREAM_AFTER`):
/// the browser reconnects with `Last-Event-ID` and the bar goes on, never
/// back. Once the job is done the page closes its stream on `done` and
/// doesn't connect again: two streams in all.
#[tokio::test]
async fn the_htmx_example_in_a_browser_on_htmx_2_and_4() {
    require!(
        crate::common::browser(),
        crate::common::tools(&["npm", "tar"])
    );
    let driver = Driver::start();
    for (version, dir) in htmx_versions() {
        let envs = [
            ("HTMX_DIR", dir.to_str().unwrap()),
            ("HTMX_VERSION", version),
            ("STEP_MS", "400"),
            ("CUT_STREAM_AFTER", "4"),
        ];
        let demo = Demo::with_args("htmx_progress", &[], &envs);
        let page = browser(&driver).await;
        page.goto(&format!("{}/", demo.base)).await.unwrap();
        click(&page, Locator::Css("form[action='/jobs'] button")).await;
        wait_for(&page, "<h1>export-").await;
        let url = page.current_url().await.unwrap();
        let seen = bar_values(&page, 100, &format!("htmx {version}")).await;
        let on_the_way = seen.iter().filter(|v| (1..100).contains(*v)).count();
        assert!(on_the_way >= 3, "htmx {version}: {seen:?}");
        assert_eq!(page.current_url().await.unwrap(), url, "htmx {version}");
        // done closed the stream: after the 2 s a reconnect would wait, the
        // page has opened two streams, the cut one and the one that ended
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            streams_opened(&page).await,
            serde_json::json!(2),
            "htmx {version}: event streams opened"
        );
        page.close().await.unwrap();
    }
}

/// `examples/htmx_monitor.rs` in Chromium on htmx 4.0.1 and 2.0.4: the bar
/// and the status line move from one stream, through values on the way; a
/// reload in the middle re-attaches and goes on from where the job is; the
/// results arrive out of band when the job finishes, and the stream
/// closes. A second job is cancelled from its button: the worker stops,
/// the page says "cancelled", and its stream closes too.
#[tokio::test]
async fn the_htmx_monitor_page_in_a_browser_on_htmx_2_and_4() {
    require!(
        crate::common::browser(),
        crate::common::tools(&["npm", "tar"])
    );
    let driver = Driver::start();
    for (version, dir) in htmx_versions() {
        let envs = [
            ("HTMX_DIR", dir.to_str().unwrap()),
            ("HTMX_VERSION", version),
            ("STEP_MS", "150"),
        ];
        let demo = Demo::with_args("htmx_monitor", &[], &envs);
        let page = browser(&driver).await;
        monitor_flow(&page, &demo.base, version).await;
        page.close().await.unwrap();
    }
}

/// The monitor page's flow, on the app at `base`.
async fn monitor_flow(page: &Client, base: &str, version: &str) {
    page.goto(&format!("{base}/")).await.unwrap();
    click(page, Locator::Css("form[action='/jobs'] button")).await;
    wait_for(page, "running: ").await;
    let url = page.current_url().await.unwrap();
    // live, with no reload, then a reload in the middle of the job
    let seen = bar_values(page, 40, &format!("htmx {version}")).await;
    let on_the_way = seen.iter().filter(|v| (1..40).contains(*v)).count();
    assert!(on_the_way >= 3, "htmx {version}: {seen:?}");
    assert_eq!(page.current_url().await.unwrap(), url);
    page.refresh().await.unwrap();
    let after_reload = progress_of(page).await;
    assert!(
        after_reload >= 40,
        "the reloaded page starts where the job is: {after_reload}"
    );
    // the results, out of band, once it finished
    wait_for(page, "rows exported to").await;
    // (htmx adds and then removes its settling classes: the text, not the tag)
    let source = wait_for(page, ">finished</p>").await;
    // swapped out of band: into the page's own `#results`, not the stream's part
    let placed = page
        .execute(
            "return document.querySelector('#live #results') === null \
             && document.querySelector('#results').textContent.includes('rows exported')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(placed, serde_json::json!(true), "{source}");
    assert_eq!(progress_of(page).await, 100);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        streams_opened(page).await,
        serde_json::json!(1),
        "after done"
    );

    // another job, cancelled from the page: the worker stops
    page.goto(&format!("{base}/")).await.unwrap();
    click(page, Locator::Css("form[action='/jobs'] button")).await;
    wait_for(page, "running: ").await;
    click(page, Locator::Css("button[hx-post$='/cancel']")).await;
    wait_for(page, ">cancelled</p>").await;
    let stopped = progress_of(page).await;
    assert!(stopped < 100, "the worker went on to {stopped}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(progress_of(page).await, stopped, "the worker went on");
    assert!(!page.source().await.unwrap().contains("rows exported"));
    assert_eq!(
        streams_opened(page).await,
        serde_json::json!(1),
        "after cancel"
    );
}
