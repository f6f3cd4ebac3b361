//! 10,000 watchers on one app instance: open monitor pages over real
//! sockets, each an SSE client following one of 1,000 jobs on the Redis at
//! `REDIS_URL`, ten clients a job. The instance is a process of its own
//! (this bench, run again), so that its memory and CPU are its own:
//! - memory per watcher: the instance's RSS growth from no watcher to
//!   10,000, over 10,000;
//! - a write reaching all its watchers: from the write, made in this
//!   process, to the last of the job's ten clients reading it, p50 and p99
//!   over 1,000 writes (one job after the other);
//! - the instance's CPU while it serves those writes.
//!
//! Beside it, in the same run, the floor: an axum SSE route fed by a raw
//! `SUBSCRIBE` (one subscription a job) and a tokio broadcast, the job's
//! JSON in the message, written by a raw `SET` and `PUBLISH` in one
//! pipeline (one round trip, as jobsess's write is).
//! `cargo bench -p jobsess-lab --bench watchers`; `JOBSESS_WATCHERS=N`
//! opens N clients instead of 10,000. BENCHMARKS.md has the results.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use fred::prelude::*;
use futures_util::StreamExt;
use jobsess::redis::RedisJobStore;
use jobsess::{AsyncJobSession, JobMetadata};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};

/// The job every watcher follows: its `step` says which write it shows.
#[derive(Serialize, Deserialize, JobMetadata, Clone)]
struct Watched {
    file: String,
    step: u32,
}

/// How many jobs are followed.
const JOBS: usize = 1_000;
/// How many writes are timed, one job after the other.
const WRITES: u32 = 1_000;
/// The env var that makes this binary an app instance (`jobsess` or `floor`).
const SERVE: &str = "JOBSESS_WATCHERS_SERVE";
/// The namespace of the jobs, and the start of the floor's keys.
const NAMESPACE: &str = "jobsess-bench-watchers";

/// Job `i`'s owner token (ten jobs an owner) and id.
fn job_of(i: usize) -> (String, String) {
    (
        format!("owner-of-bench-{:05}", i / 10),
        format!("job-{i:04}"),
    )
}

// ---- the app instances ----------------------------------------------

/// jobsess's route: the owner's jobs, `watch`, `jobsess::axum::sse`.
async fn jobsess_route(
    State(store): State<RedisJobStore>,
    Path((owner, id)): Path<(String, String)>,
) -> Result<impl IntoResponse, jobsess::Error> {
    let jobs = AsyncJobSession::<Watched, _>::new(store.owner(&owner)?);
    Ok(jobsess::axum::sse(jobs.watch(&id).await?))
}

/// The floor's state: one broadcast a job, fed by one subscription each.
#[derive(Clone)]
struct Floor {
    client: Client,
    subscriber: fred::clients::SubscriberClient,
    jobs: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>>,
}

/// The floor's route: the job's current JSON (one `GET`), then each
/// message of its channel, as SSE.
async fn floor_route(
    State(floor): State<Floor>,
    Path((owner, id)): Path<(String, String)>,
) -> impl IntoResponse {
    let channel = format!("{NAMESPACE}:floor:{owner}:{id}");
    let (receiver, fresh) = {
        let mut jobs = floor.jobs.lock().expect("the lock");
        match jobs.get(&channel) {
            Some(sender) => (sender.subscribe(), false),
            None => {
                let (sender, receiver) = broadcast::channel(16);
                jobs.insert(channel.clone(), sender);
                (receiver, true)
            }
        }
    };
    if fresh {
        floor
            .subscriber
            .subscribe(channel.as_str())
            .await
            .expect("SUBSCRIBE");
    }
    let current: Option<String> = floor.client.get(channel.as_str()).await.expect("GET");
    let first = futures_util::stream::iter(current.map(|json| Arc::<str>::from(json.as_str())));
    let updates = tokio_stream_of(receiver);
    let events = first
        .chain(updates)
        .map(|json| Ok::<_, std::convert::Infallible>(Event::default().data(&*json)));
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A broadcast receiver as a stream (lagged messages skipped).
fn tokio_stream_of(
    receiver: broadcast::Receiver<Arc<str>>,
) -> impl futures_util::Stream<Item = Arc<str>> + Send {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(json) => return Some((json, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// Runs an app instance (`which`: `jobsess` or `floor`) on a free port,
/// which it prints, until it is killed.
async fn serve(which: &str, url: &str) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let app = if which == "jobsess" {
        let store = RedisJobStore::connect(url)
            .await
            .expect("Redis answers")
            .with_namespace(NAMESPACE);
        axum::Router::new()
            .route("/w/{owner}/{id}", axum::routing::get(jobsess_route))
            .with_state(store)
    } else {
        let config = Config::from_url(url).expect("a URL");
        let client = Builder::from_config(config.clone())
            .build()
            .expect("a client");
        client.init().await.expect("Redis answers");
        let subscriber = Builder::from_config(config)
            .build_subscriber_client()
            .expect("a subscriber");
        subscriber.init().await.expect("Redis answers");
        let floor = Floor {
            client,
            subscriber,
            jobs: Arc::default(),
        };
        let mut messages = floor.subscriber.message_rx();
        let jobs = Arc::clone(&floor.jobs);
        tokio::spawn(async move {
            while let Ok(message) = messages.recv().await {
                let json: String = message.value.convert().expect("a text");
                let sender = jobs
                    .lock()
                    .expect("the lock")
                    .get(&*message.channel)
                    .cloned();
                if let Some(sender) = sender {
                    let _ = sender.send(Arc::from(json.as_str()));
                }
            }
        });
        axum::Router::new()
            .route("/w/{owner}/{id}", axum::routing::get(floor_route))
            .with_state(floor)
    };
    println!("port {}", listener.local_addr().expect("an address").port());
    axum::serve(listener, app).await.expect("serves");
}

// ---- the bench --------------------------------------------------------

/// A field of `/proc/{pid}/status` in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .expect("the field")
}

/// The CPU time `pid` has used (user and system), from `/proc/{pid}/stat`.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    // the fields after the command's name, which is in parentheses
    let after = &stat[stat.rfind(')').expect("a name") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on Linux
    Duration::from_millis(ticks * 10)
}

/// An app instance: this bench, run again as `which`.
struct Instance {
    child: Child,
    port: u16,
}

impl Instance {
    fn start(which: &str) -> Instance {
        let mut child = Command::new(std::env::current_exe().expect("this bench"))
            .env(SERVE, which)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the instance starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("its port");
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .expect("a port");
        Instance { child, port }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a client read: which job, which step, and when.
type Seen = (usize, u32, Instant);

/// The step in an SSE `data:` line (`"step":K`).
fn step_in(line: &str) -> Option<u32> {
    let rest = line.strip_prefix("data:")?;
    let at = rest.find("\"step\":")? + "\"step\":".len();
    let digits: String = rest[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// One SSE client of job `job` on `port`: sends what it reads to `seen`.
async fn watcher(port: u16, job: usize, seen: mpsc::UnboundedSender<Seen>) {
    let (owner, id) = job_of(job);
    let mut stream = loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => break stream,
            // the backlog is full: try again
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    };
    let request = format!("GET /w/{owner}/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request");
    let mut lines = tokio::io::BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(step) = step_in(&line)
            && seen.send((job, step, Instant::now())).is_err()
        {
            return;
        }
    }
}

/// The current state of job `i`, as the floor keeps it.
fn floor_json(i: usize, step: u32) -> String {
    serde_json::to_string(&Watched {
        file: format!("file-{i}.mp3"),
        step,
    })
    .expect("JSON")
}

/// What one side measured.
struct Measured {
    bytes_per_watcher: f64,
    p50: Duration,
    p99: Duration,
    cpu: f64,
    missed: usize,
}

/// Starts instance `which`, opens `watchers` clients, and times the writes.
async fn measure(which: &str, url: &str, watchers: usize) -> Measured {
    let config = Config::from_url(url).expect("a URL");
    let raw = Builder::from_config(config).build().expect("a client");
    raw.init().await.expect("Redis answers");
    let store = RedisJobStore::connect(url)
        .await
        .expect("Redis answers")
        .with_namespace(NAMESPACE);
    let handles: Vec<AsyncJobSession<Watched, _>> = (0..JOBS)
        .map(|i| AsyncJobSession::new(store.owner(&job_of(i).0).expect("an owner")))
        .collect();
    // the jobs, as each side keeps them
    for (i, jobs) in handles.iter().enumerate() {
        let (owner, id) = job_of(i);
        if which == "jobsess" {
            let job = Watched {
                file: format!("file-{i}.mp3"),
                step: 0,
            };
            jobs.store(&id, &job).await.expect("stores");
        } else {
            let key = format!("{NAMESPACE}:floor:{owner}:{id}");
            let () = raw
                .set(key, floor_json(i, 0), None, None, false)
                .await
                .expect("SET");
        }
    }
    let instance = Instance::start(which);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = status_kb(instance.pid(), "VmRSS:");
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Seen>();
    // open the clients, 100 at a time, until each has its first event
    let opened = Instant::now();
    let mut clients = Vec::with_capacity(watchers);
    for start in (0..watchers).step_by(100) {
        for w in start..(start + 100).min(watchers) {
            clients.push(tokio::spawn(watcher(
                instance.port,
                w % JOBS,
                seen_tx.clone(),
            )));
        }
        tokio::task::yield_now().await;
    }
    let mut first = 0;
    while first < watchers {
        match tokio::time::timeout(Duration::from_secs(60), seen.recv()).await {
            Ok(Some(_)) => first += 1,
            _ => panic!("{which}: only {first} of {watchers} clients got their first event"),
        }
    }
    let opening = opened.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = status_kb(instance.pid(), "VmRSS:");
    // the writes
    let per_job = watchers / JOBS;
    let cpu_before = cpu_time(instance.pid());
    let wall = Instant::now();
    let mut latencies = Vec::with_capacity(WRITES as usize);
    let mut missed = 0;
    for w in 0..WRITES {
        let i = w as usize % JOBS;
        let step = w + 1;
        let written = Instant::now();
        if which == "jobsess" {
            handles[i]
                .store_field(&job_of(i).1, Watched::STEP, &step)
                .await
                .expect("writes");
        } else {
            let (owner, id) = job_of(i);
            let key = format!("{NAMESPACE}:floor:{owner}:{id}");
            let json = floor_json(i, step);
            // one round trip, as jobsess's write is
            let pipeline = raw.pipeline();
            let () = pipeline
                .set(&key, json.as_str(), None, None, false)
                .await
                .expect("queued");
            let () = pipeline.publish(&key, json.as_str()).await.expect("queued");
            let _: ((), i64) = pipeline.all().await.expect("SET and PUBLISH");
        }
        let mut arrived = 0;
        let mut last = written;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while arrived < per_job {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some((job, got, at))) if job == i && got == step => {
                    arrived += 1;
                    last = at;
                }
                Ok(Some(_)) => {}
                _ => {
                    missed += per_job - arrived;
                    break;
                }
            }
        }
        latencies.push(last - written);
    }
    let cpu = (cpu_time(instance.pid()) - cpu_before).as_secs_f64() / wall.elapsed().as_secs_f64();
    for client in clients {
        client.abort();
    }
    drop(instance);
    latencies.sort_unstable();
    let at = |p: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let index = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies[index]
    };
    #[allow(clippy::cast_precision_loss)]
    let bytes_per_watcher = (rss_after.saturating_sub(rss_before) * 1024) as f64 / watchers as f64;
    println!(
        "watchers_{which}/{watchers}: opened in {:.1} s, RSS {rss_before} kB -> {rss_after} kB ({bytes_per_watcher:.0} B a watcher), write to all its watchers p50 {:.2} ms p99 {:.2} ms, instance CPU {:.1} % of a core, {missed} events missed",
        opening.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        cpu * 100.0
    );
    Measured {
        bytes_per_watcher,
        p50: at(0.5),
        p99: at(0.99),
        cpu,
        missed,
    }
}

fn main() {
    let url = std::env::var("REDIS_URL");
    if let Ok(which) = std::env::var(SERVE) {
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        rt.block_on(serve(&which, &url.expect("REDIS_URL")));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only build
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let Ok(url) = url else {
        println!("watchers_*: skipped: set REDIS_URL");
        return;
    };
    let watchers: usize = std::env::var("JOBSESS_WATCHERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let mut rounds = Vec::new();
        // floor, jobsess, floor, jobsess: each side twice, interleaved
        for _ in 0..2 {
            let floor = measure("floor", &url, watchers).await;
            let ours = measure("jobsess", &url, watchers).await;
            rounds.push((floor, ours));
        }
        for (round, (floor, ours)) in rounds.iter().enumerate() {
            println!(
                "watchers_ratio/{watchers} round {}: memory {:.2}x, p50 {:.2}x, p99 {:.2}x, CPU {:.2}x, missed {} / {}",
                round + 1,
                ours.bytes_per_watcher / floor.bytes_per_watcher,
                ours.p50.as_secs_f64() / floor.p50.as_secs_f64(),
                ours.p99.as_secs_f64() / floor.p99.as_secs_f64(),
                ours.cpu / floor.cpu,
                floor.missed,
                ours.missed
            );
        }
    });
}
