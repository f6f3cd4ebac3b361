//! What the tests share: the skip rule for tests whose outside tool or
//! service is missing, and the demo apps the end-to-end tests start.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The variable that turns every skip into a failure (`.ci/run` sets it).
pub const STRICT: &str = "JOBSESS_TEST_STRICT";

/// Returns from the test when one of its needs is missing, after saying by
/// name that it did not run and why; with [`STRICT`] set, fails it instead.
/// Each argument is an `Option<String>`: `Some(why)` when a need is missing.
macro_rules! require {
    ($($missing:expr),+ $(,)?) => {
        $(if let Some(why) = $missing {
            crate::common::skipped(&why);
            return;
        })+
    };
}

/// Says that the running test did not run, and why, on the real stderr
/// (the test harness captures only `print!` and `eprint!`, so this line
/// shows in a passing run); panics instead when [`STRICT`] is set.
pub fn skipped(why: &str) {
    // the harness names each test's thread after the test
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("a test");
    let line = format!("test skipped: {name}: {why}");
    assert!(
        std::env::var_os(STRICT).is_none_or(|v| v.is_empty() || v == "0"),
        "{line} ({STRICT} is set, so every test must run)"
    );
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The Redis the tests use: `REDIS_URL`, or the one on loopback's default port.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `Some(why)` when no Redis answers at [`redis_url`].
pub fn redis() -> Option<String> {
    let url = redis_url();
    let address = host_port(&url, 6379);
    let answers = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok());
    (!answers).then(|| {
        format!(
            "no Redis answers at {address} (set REDIS_URL, or start one: \
             redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no)"
        )
    })
}

/// The PostgreSQL the tests use: `DATABASE_URL`, or the one on loopback's
/// default port (trust auth, database `test`).
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `Some(why)` when no PostgreSQL answers at [`database_url`].
pub fn postgres() -> Option<String> {
    let url = database_url();
    let address = host_port(&url, 5432);
    let answers = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok());
    (!answers).then(|| {
        format!(
            "no PostgreSQL answers at {address} (set DATABASE_URL, e.g. \
             postgres://postgres@127.0.0.1:5432/test, to a database the tests may create schemas in)"
        )
    })
}

/// A PostgreSQL job store at [`database_url`] in a schema of its own
/// (so tests run in parallel), migrated.
pub async fn postgres_store() -> jobsess::postgres::PostgresJobStore {
    let schema = format!(
        "jobsess_test_{}",
        &jobsess::postgres::PostgresJobStore::new_owner_token().unwrap()[..12]
    );
    let store = jobsess::postgres::PostgresJobStore::connect(&database_url())
        .await
        .unwrap()
        .with_schema(&schema);
    store.migrate().await.unwrap();
    store
}

/// A fresh database file for a SQLite test, in the target's temp dir.
pub fn sqlite_path() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    let name = jobsess::sqlite::SqliteJobStore::new_owner_token().unwrap();
    dir.join(format!("{}.db", &name[..16]))
}

/// The SQLite job store on a fresh database file (no service: SQLite is
/// built in).
pub async fn sqlite_store() -> jobsess::sqlite::SqliteJobStore {
    jobsess::sqlite::SqliteJobStore::open(sqlite_path())
        .await
        .unwrap()
}

/// [`sqlite_store`] on sqlx 0.9.
pub async fn sqlite_store_sqlx09() -> jobsess::sqlite_sqlx09::SqliteJobStore {
    jobsess::sqlite_sqlx09::SqliteJobStore::open(sqlite_path())
        .await
        .unwrap()
}

/// [`postgres_store`] on sqlx 0.9: the same store, a fresh schema.
pub async fn postgres_store_sqlx09() -> jobsess::postgres_sqlx09::PostgresJobStore {
    let schema = format!(
        "jobsess_test_{}",
        &jobsess::postgres::PostgresJobStore::new_owner_token().unwrap()[..12]
    );
    let store = jobsess::postgres_sqlx09::PostgresJobStore::connect(&database_url())
        .await
        .unwrap()
        .with_schema(&schema);
    store.migrate().await.unwrap();
    store
}

/// The `host:port` of a URL, without its credentials.
fn host_port(url: &str, default_port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        host.to_owned()
    } else {
        format!("{host}:{default_port}")
    }
}

/// `Some(why)` when one of `tools` is not on the PATH.
pub fn tools(tools: &[&str]) -> Option<String> {
    let on_path = |tool: &&str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
    };
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| !on_path(tool))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} not found on the PATH (Debian: apt-get install {})",
            missing.join(" and "),
            missing
                .iter()
                .map(|tool| match *tool {
                    "chromedriver" => "chromium-driver",
                    "redis-cli" | "redis-server" => "redis-server",
                    other => other,
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(" ")
        )
    })
}

/// `Some(why)` when Chromium or chromedriver is missing, for the browser tests.
pub fn browser() -> Option<String> {
    tools(&["chromium", "chromedriver"])
}

#[test]
fn host_port_leaves_out_the_credentials() {
    assert_eq!(host_port("redis://:secret@db:6380/0", 6379), "db:6380");
    assert_eq!(host_port("redis://127.0.0.1", 6379), "127.0.0.1:6379");
    assert_eq!(host_port("postgres://u:p@h/test?x=1", 5432), "h:5432");
}

/// A demo app this test started: the example's own binary on a free port,
/// killed when dropped.
pub struct Demo {
    child: Child,
    /// Kept open: the app may still write to it.
    _stdout: BufReader<ChildStdout>,
    pub base: String,
}

impl Demo {
    /// Starts `examples/<example>.rs`, built by `cargo test` beside the test
    /// binaries, with jobs taking `step_ms` per 10 %, and waits for its URL.
    pub fn start(example: &str, step_ms: u64, args: &[&str]) -> Demo {
        let step_ms = step_ms.to_string();
        let args: Vec<&str> = ["--port", "0", "--step-ms", &step_ms]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        Demo::run(example, &args, &[])
    }

    /// Starts one of the small examples, which read `PORT` (0: a free one)
    /// and whatever else `envs` sets.
    pub fn small(example: &str, envs: &[(&str, &str)]) -> Demo {
        let envs: Vec<(&str, &str)> = [("PORT", "0")]
            .into_iter()
            .chain(envs.iter().copied())
            .collect();
        Demo::run(example, &[], &envs)
    }

    /// Starts `examples/<example>.rs` with `args` and `envs` (`PORT` 0),
    /// and waits for the first line it prints; `base` is the URL in it, if
    /// there is one.
    pub fn with_args(example: &str, args: &[&str], envs: &[(&str, &str)]) -> Demo {
        let envs: Vec<(&str, &str)> = [("PORT", "0")]
            .into_iter()
            .chain(envs.iter().copied())
            .collect();
        Demo::run(example, args, &envs)
    }

    fn run(example: &str, args: &[&str], envs: &[(&str, &str)]) -> Demo {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>");
        let bin = profile
            .join("examples")
            .join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
        let mut child = Command::new(&bin)
            .args(args)
            .env_remove("PORT")
            .env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("{} runs: {err}", bin.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the app says where it listens");
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_default()
            .to_owned();
        assert!(!line.is_empty(), "{example} printed nothing");
        Demo {
            child,
            _stdout: stdout,
            base,
        }
    }

    pub fn axum(args: &[&str]) -> Demo {
        Demo::start("axum_app", 5, args)
    }

    pub fn actix() -> Demo {
        Demo::start("actix_app", 5, &[])
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every event of a server-sent event stream as (name, data), read until
/// the server closes it (`message` for an unnamed one; keep-alive comments
/// left out). Fails if the stream is still open after 20 s.
pub async fn events_to_the_close(mut response: reqwest::Response) -> Vec<(String, String)> {
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
                    data = Some(value.trim().to_owned());
                }
            }
            data.map(|data| (name, data))
        })
        .collect()
}

/// The job most tests need: a file and its progress, under the default
/// prefix (`job_{id}`).
#[derive(
    serde::Serialize, serde::Deserialize, jobsess::JobMetadata, Debug, PartialEq, Clone, Default,
)]
pub struct Job {
    pub file: String,
    #[serde(default)]
    pub progress: u8,
}

/// A [`Job`] on `file`, at progress 0.
pub fn job(file: &str) -> Job {
    Job {
        file: file.into(),
        progress: 0,
    }
}
