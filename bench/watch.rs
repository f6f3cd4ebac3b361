//! Live jobs on the Redis at `REDIS_URL`: how long from a `store_field` on
//! one app instance to the event on another, beside a raw Redis
//! PUBLISH→SUBSCRIBE round trip measured in the same run; what a watcher
//! costs in memory; whether watchers slow writers down; and, on a
//! `redis-server` of its own, Redis keyspace notifications (the design not
//! taken) beside what jobsess does.
//! `cargo bench -p jobsess-lab --bench watch`. BENCHMARKS.md has the results.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fred::prelude::*;
use fred::types::Message;
use futures_util::StreamExt;
use jobsess::redis::RedisJobStore;
use jobsess::{AsyncJobSession, JobMetadata};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use tokio::sync::Notify;

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    file: String,
    step: u32,
}

const ROUNDS: u32 = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

/// The `p` percentile of `samples`.
fn percentile_of(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort_unstable();
    percentile(&samples, p)
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "{name}: p50 {:.1} µs, p99 {:.1} µs ({} samples)",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        samples.len()
    );
    p50
}

/// A store as one app instance has it: its own pool (and subscriber).
async fn instance(url: &str) -> RedisJobStore {
    let pool =
        Pool::new(Config::from_url(url).expect("a URL"), None, None, None, 2).expect("a pool");
    pool.init().await.expect("Redis answers");
    RedisJobStore::new(pool).with_namespace("jobsess-bench-watch")
}

/// A connected client of the Redis at `url`.
async fn client(url: &str) -> Client {
    let client = Client::new(Config::from_url(url).expect("a URL"), None, None, None);
    client.init().await.expect("Redis answers");
    client
}

/// A connected subscriber client of the Redis at `url`.
async fn subscriber(url: &str) -> fred::clients::SubscriberClient {
    let subscriber = Builder::from_config(Config::from_url(url).expect("a URL"))
        .build_subscriber_client()
        .expect("a subscriber");
    subscriber.init().await.expect("Redis answers");
    subscriber
}

/// PUBLISH on one client, the message on a subscriber: the floor.
async fn raw_round_trip(url: &str) -> Vec<Duration> {
    let publisher = client(url).await;
    let subscriber = subscriber(url).await;
    let mut messages = subscriber.message_rx();
    subscriber
        .subscribe("jobsess-bench-raw")
        .await
        .expect("SUBSCRIBE");
    let (mut samples, mut lost) = (Vec::new(), 0);
    for i in 0..ROUNDS {
        let started = Instant::now();
        let _: i64 = publisher
            .publish("jobsess-bench-raw", i.to_string())
            .await
            .expect("PUBLISH");
        // this round's message (a late one of an earlier round is skipped)
        let arrived = tokio::time::timeout(LOST_AFTER, async {
            loop {
                let message = messages.recv().await.expect("a message");
                if step_of(&message) == i {
                    break;
                }
            }
        });
        match arrived.await {
            Ok(()) => samples.push(started.elapsed()),
            Err(_) => lost += 1,
        }
    }
    if lost > 0 {
        println!("  (raw round trip: {lost} of {ROUNDS} messages never arrived)");
    }
    samples
}

/// The step a floor's message carries (its text).
fn step_of(message: &Message) -> u32 {
    message
        .value
        .as_string()
        .expect("text")
        .parse()
        .expect("a step")
}

/// How long the floors wait for a message before they count it as lost: a
/// pub/sub message is sent at most once, and fred's receiver was seen to
/// drop one now and then (fred issue 367).
const LOST_AFTER: Duration = Duration::from_secs(2);

/// Waits for `all_arrived`, for at most 10 s: a value a watcher never
/// gets fails the run instead of hanging it. (A watcher reads its job a
/// second after the last message it got, so it gets even a value whose
/// message was lost.)
async fn arrived_within(all_arrived: &Notify) {
    tokio::time::timeout(Duration::from_secs(10), all_arrived.notified())
        .await
        .expect("every watcher got the value within 10 s");
}

/// How a floor writes and hands on its messages.
#[derive(Clone, Copy, PartialEq)]
enum Floor {
    /// A raw `PUBLISH` of the step's text; each task parses the text.
    Plain,
    /// The same work as a field write of a watched job: the least script
    /// that writes the field and publishes a message shaped as jobsess's
    /// (`["w", revision, field, JSON]`, encoded by the server's cjson);
    /// the subscriber's task decodes the message and the field's JSON once
    /// and hands on the value, and each task decodes its step from it.
    Script,
}

/// What a floor's subscriber hands to its tasks.
enum Handed {
    Message(Message),
    Value(serde_json::Value),
}

impl Handed {
    fn step(&self) -> u32 {
        match self {
            Handed::Message(message) => step_of(message),
            Handed::Value(value) => serde::Deserialize::deserialize(value).expect("a step"),
        }
    }
}

/// The writing side of a floor: [`Floor::Plain`] publishes, and
/// [`Floor::Script`] runs its script.
struct Publisher {
    client: Client,
    script: Option<fred::types::scripts::Script>,
}

impl Publisher {
    async fn new(url: &str, floor: Floor) -> Self {
        let client = client(url).await;
        let script = (floor == Floor::Script).then(|| {
            fred::types::scripts::Script::from_lua(
                "redis.call('HSET', KEYS[1], 'step', ARGV[1]) \
                 redis.call('PUBLISH', KEYS[2], cjson.encode({'w', ARGV[1], 'step', ARGV[1]})) \
                 return 1",
            )
        });
        if let Some(script) = &script {
            script.load(&client).await.expect("SCRIPT LOAD");
        }
        Publisher { client, script }
    }

    async fn send(&self, channel: &str, step: u32) {
        match &self.script {
            None => {
                let _: i64 = self
                    .client
                    .publish(channel, step.to_string())
                    .await
                    .expect("PUBLISH");
            }
            Some(script) => {
                let keys = vec![format!("{channel}-hash"), channel.to_owned()];
                let json = serde_json::to_string(&step).expect("encodes");
                let _: i64 = script
                    .evalsha(&self.client, keys, json)
                    .await
                    .expect("EVALSHA");
            }
        }
    }
}

/// A publisher, and the messages of `channel` as a subscriber of this
/// process gets them, handed on through a tokio broadcast channel (subscribe
/// to the sender for a receiver), by a task to abort at the end.
async fn fanned_out(
    url: &str,
    channel: &str,
    floor: Floor,
) -> (
    Publisher,
    tokio::sync::broadcast::Sender<Arc<Handed>>,
    tokio::task::JoinHandle<()>,
) {
    let publisher = Publisher::new(url, floor).await;
    let subscriber = subscriber(url).await;
    let mut messages = subscriber.message_rx();
    subscriber.subscribe(channel).await.expect("SUBSCRIBE");
    let (fan_out, _) = tokio::sync::broadcast::channel::<Arc<Handed>>(64);
    let sender = fan_out.clone();
    let forward = tokio::spawn(async move {
        let _subscribed = subscriber;
        while let Ok(message) = messages.recv().await {
            let handed = match floor {
                Floor::Plain => Handed::Message(message),
                Floor::Script => {
                    let text = message.value.as_str().expect("text");
                    let parts: Vec<String> = serde_json::from_str(&text).expect("a message");
                    Handed::Value(serde_json::from_str(&parts[3]).expect("the field's JSON"))
                }
            };
            let _ = sender.send(Arc::new(handed));
        }
    });
    (publisher, fan_out, forward)
}

/// The floor for `consumers` watchers: PUBLISH on one client, its message
/// on a subscriber, handed by hand to `consumers` tasks (a tokio broadcast
/// channel, each task noting when it got each message, as the watchers of
/// [`watched_round_trip`] do). Latency is to each task's arrival; also
/// how long each write call took (to its reply).
async fn raw_fan_out(url: &str, consumers: usize, floor: Floor) -> (Vec<Duration>, Vec<Duration>) {
    let (publisher, fan_out, forward) = fanned_out(url, "jobsess-bench-fan-out", floor).await;
    let arrived = Arc::new(AtomicUsize::new(0));
    let all_arrived = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..consumers {
        let mut received = fan_out.subscribe();
        let (arrived, all_arrived) = (Arc::clone(&arrived), Arc::clone(&all_arrived));
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Ok(message) = received.recv().await {
                let step = message.step();
                if step == 0 {
                    break;
                }
                seen.push((step, Instant::now()));
                if arrived.fetch_add(1, Ordering::AcqRel) + 1 == consumers {
                    all_arrived.notify_one();
                }
            }
            seen
        }));
    }
    let (mut started, mut lost) = (Vec::with_capacity(ROUNDS as usize), 0);
    let mut writes = Vec::with_capacity(ROUNDS as usize);
    for step in (1..=ROUNDS).chain([0]) {
        arrived.store(0, Ordering::Release);
        started.push(Instant::now());
        publisher.send("jobsess-bench-fan-out", step).await;
        writes.push(started[started.len() - 1].elapsed());
        // a lost message reaches no task: its step has no samples
        if step > 0
            && tokio::time::timeout(LOST_AFTER, all_arrived.notified())
                .await
                .is_err()
        {
            lost += 1;
        }
    }
    // the tasks end at the last message, or when the channel closes
    forward.abort();
    drop(fan_out);
    let mut samples = Vec::with_capacity(ROUNDS as usize * consumers);
    for task in tasks {
        for (step, at) in task.await.expect("a consumer") {
            samples.push(at - started[step as usize - 1]);
        }
    }
    if lost > 0 {
        println!("  (fan-out by hand: {lost} of {ROUNDS} messages reached not every task)");
    }
    (samples, writes)
}

/// The alternative design, measured on the same server: keyspace
/// notifications (`notify-keyspace-events Kh`) say that a job's hash
/// changed but not how, so a watcher must read it again. Here: `HSET` on
/// one client, the notification on a subscriber, then the `HGET` of the
/// field on a third client, until its reply.
async fn keyspace_round_trip(url: &str) -> Vec<Duration> {
    let (writer, reader, subscriber) =
        (client(url).await, client(url).await, subscriber(url).await);
    // fred hands keyspace notifications to their own receiver
    let mut events = subscriber.keyspace_event_rx();
    let hash = "jobsess-bench-keyspace:{x}:job";
    subscriber
        .subscribe(format!("__keyspace@0__:{hash}"))
        .await
        .expect("SUBSCRIBE");
    let mut samples = Vec::new();
    for i in 0..ROUNDS {
        let started = Instant::now();
        let _: i64 = writer
            .hset(hash, ("step", i.to_string()))
            .await
            .expect("HSET");
        let _: fred::types::KeyspaceEvent = events.recv().await.expect("the notification");
        let _: Option<String> = reader.hget(hash, "step").await.expect("HGET");
        samples.push(started.elapsed());
    }
    let _: i64 = writer.del(hash).await.expect("DEL");
    samples
}

/// The server's time per call of `command` (`INFO commandstats`), in µs.
async fn server_usec_per_call(client: &Client, command: &str) -> f64 {
    let info: String = client
        .custom(fred::cmd!("INFO"), vec!["commandstats"])
        .await
        .expect("INFO");
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:")))
        .and_then(|stats| {
            stats
                .split(',')
                .find_map(|kv| kv.strip_prefix("usec_per_call="))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Keyspace notifications against what jobsess does (its write scripts
/// publish, only while a job is watched), on a `redis-server` of the
/// bench's own with notifications on, so the shared server's settings are
/// not touched. Prints the three round trips and what notifications add
/// to every `HSET`, watched or not.
async fn keyspace_against_publish() {
    use std::process::{Command, Stdio};
    let Some(port) = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
    else {
        return;
    };
    let Ok(mut server) = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--notify-keyspace-events", "Kh"])
        .stdout(Stdio::null())
        .spawn()
    else {
        println!("keyspace notifications: skipped (no redis-server on the PATH)");
        return;
    };
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    if up {
        let url = format!("redis://127.0.0.1:{port}");
        let _ = raw_round_trip(&url).await;
        let raw = report(
            "own server: raw PUBLISH -> SUBSCRIBE",
            raw_round_trip(&url).await,
        );
        let (samples, _, _) = watched_round_trip(&url, 1).await;
        let watched = report("own server: store_field -> watch_field, 1 watcher", samples);
        let keyspace = report(
            "own server: HSET -> keyspace notification -> HGET",
            keyspace_round_trip(&url).await,
        );
        println!(
            "  ratios to the raw round trip: jobsess {:.2}x, keyspace notifications {:.2}x",
            watched.as_secs_f64() / raw.as_secs_f64(),
            keyspace.as_secs_f64() / raw.as_secs_f64()
        );
        // what notifications cost every write, watched or not
        let client = client(&url).await;
        let mut per_call = Vec::new();
        for events in ["Kh", ""] {
            let _: () = client
                .custom(
                    fred::cmd!("CONFIG"),
                    vec!["SET", "notify-keyspace-events", events],
                )
                .await
                .expect("CONFIG SET");
            let _: () = client
                .custom(fred::cmd!("CONFIG"), vec!["RESETSTAT"])
                .await
                .expect("CONFIG RESETSTAT");
            for i in 0..20_000 {
                let _: i64 = client
                    .hset("jobsess-bench-keyspace:{y}:job", ("step", i))
                    .await
                    .expect("HSET");
            }
            per_call.push(server_usec_per_call(&client, "hset").await);
        }
        println!(
            "  server time per HSET: {:.2} µs with keyspace notifications on, {:.2} µs off",
            per_call[0], per_call[1]
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// `store_field` on instance A, the value on each of `watchers` watch
/// streams on instance B.
async fn watched_round_trip(url: &str, watchers: usize) -> (Vec<Duration>, f64, Vec<Duration>) {
    let token = RedisJobStore::new_owner_token().expect("a token");
    let a = AsyncJobSession::<Job, _>::new(instance(url).await.owner(&token).expect("an owner"));
    let b = AsyncJobSession::<Job, _>::new(instance(url).await.owner(&token).expect("an owner"));
    a.store(
        "bench",
        &Job {
            file: "a.mp3".into(),
            step: 0,
        },
    )
    .await
    .expect("stores");
    let before = resident_bytes();
    // each watcher notes when each step arrived; the last one of a step to
    // arrive wakes the writer for the next step
    let arrived = Arc::new(AtomicUsize::new(0));
    let all_arrived = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let mut stream = Box::pin(b.watch_field("bench", Job::STEP).await.expect("watches"));
        assert_eq!(
            stream
                .next()
                .await
                .expect("the current value")
                .expect("decodes"),
            0
        );
        let (arrived, all_arrived) = (Arc::clone(&arrived), Arc::clone(&all_arrived));
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(Ok(step)) = stream.next().await {
                seen.push((step, Instant::now()));
                if arrived.fetch_add(1, Ordering::AcqRel) + 1 == watchers {
                    all_arrived.notify_one();
                }
            }
            seen
        }));
    }
    #[allow(clippy::cast_precision_loss)]
    let per_watcher = resident_bytes().saturating_sub(before) as f64 / watchers as f64;
    let mut started = Vec::with_capacity(ROUNDS as usize);
    let mut writes = Vec::with_capacity(ROUNDS as usize);
    for step in 1..=ROUNDS {
        arrived.store(0, Ordering::Release);
        started.push(Instant::now());
        a.store_field("bench", Job::STEP, &step)
            .await
            .expect("stores");
        writes.push(started[started.len() - 1].elapsed());
        arrived_within(&all_arrived).await;
    }
    a.delete("bench").await.expect("deletes");
    let mut samples = Vec::with_capacity(ROUNDS as usize * watchers);
    for task in tasks {
        for (step, at) in task.await.expect("a watcher") {
            samples.push(at - started[step as usize - 1]);
        }
    }
    (samples, per_watcher, writes)
}

/// `store_field` on instance A, the server-sent event on a client of an
/// axum app of instance B, over loopback HTTP.
async fn sse_round_trip(url: &str) -> Vec<Duration> {
    use axum::routing::get;

    let token = RedisJobStore::new_owner_token().expect("a token");
    let a = AsyncJobSession::<Job, _>::new(instance(url).await.owner(&token).expect("an owner"));
    a.store(
        "sse",
        &Job {
            file: "a.mp3".into(),
            step: 0,
        },
    )
    .await
    .expect("stores");
    let b = AsyncJobSession::<Job, _>::new(instance(url).await.owner(&token).expect("an owner"));
    let app = axum::Router::new().route(
        "/events",
        get(move || async move {
            let events = b.watch_field("sse", Job::STEP).await.expect("watches");
            jobsess::axum::sse(events)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut response = reqwest::get(format!("http://{address}/events"))
        .await
        .expect("the event stream");
    let mut buffer = String::new();
    let mut next_data = async || loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) {
                return data.trim().parse::<u32>().expect("a step");
            }
            continue;
        }
        let chunk = response.chunk().await.expect("reads").expect("more events");
        buffer.push_str(std::str::from_utf8(&chunk).expect("text"));
    };
    assert_eq!(next_data().await, 0);
    let mut samples = Vec::new();
    for step in 1..=ROUNDS {
        let started = Instant::now();
        a.store_field("sse", Job::STEP, &step)
            .await
            .expect("stores");
        while next_data().await != step {}
        samples.push(started.elapsed());
    }
    a.delete("sse").await.expect("deletes");
    samples
}

/// Whether `watchers` watchers of one job slow down the writes to it, on
/// the instance that holds them: per `store_field`, the median time of the
/// watched job's writes and of an unwatched job's on the same instance, and
/// the median, lowest and highest ratio of alternating rounds (see
/// [`paired_rounds`]).
async fn writes_with_watchers(url: &str, watchers: usize) -> (Duration, Duration, [f64; 3]) {
    let token = RedisJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::<Job, _>::new(instance(url).await.owner(&token).expect("an owner"));
    for id in ["busy", "quiet"] {
        let job = Job {
            file: "a.mp3".into(),
            step: 0,
        };
        jobs.store(id, &job).await.expect("stores");
    }
    // each watcher's last step seen
    let seen: Arc<Vec<AtomicU32>> = Arc::new((0..watchers).map(|_| AtomicU32::new(0)).collect());
    let mut streams = Vec::new();
    for i in 0..watchers {
        let mut stream = Box::pin(jobs.watch_field("busy", Job::STEP).await.expect("watches"));
        stream
            .next()
            .await
            .expect("the current value")
            .expect("decodes");
        let seen = Arc::clone(&seen);
        streams.push(tokio::spawn(async move {
            while let Some(Ok(step)) = stream.next().await {
                seen[i].store(step, Ordering::Relaxed);
            }
        }));
    }
    let jobs = &jobs;
    let result = paired_rounds(&seen, async |id, step| {
        jobs.store_field(id, Job::STEP, &step)
            .await
            .expect("stores");
    })
    .await;
    jobs.delete("busy").await.expect("deletes");
    jobs.delete("quiet").await.expect("deletes");
    for stream in streams {
        stream.await.expect("a watcher");
    }
    result
}

/// The floor of [`writes_with_watchers`], by hand: a raw `PUBLISH` on a
/// channel whose messages a subscriber of the same process hands to
/// `consumers` tasks (a tokio broadcast channel), against one on a channel
/// nobody listens to, written the same way (see [`Floor`]).
async fn writes_with_consumers(
    url: &str,
    consumers: usize,
    floor: Floor,
) -> (Duration, Duration, [f64; 3]) {
    let (publisher, fan_out, forward) = fanned_out(url, "jobsess-bench-busy", floor).await;
    let seen: Arc<Vec<AtomicU32>> = Arc::new((0..consumers).map(|_| AtomicU32::new(0)).collect());
    let mut tasks = Vec::new();
    for i in 0..consumers {
        let mut received = fan_out.subscribe();
        let seen = Arc::clone(&seen);
        tasks.push(tokio::spawn(async move {
            loop {
                let message = match received.recv().await {
                    Ok(message) => message,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let step = message.step();
                seen[i].store(step, Ordering::Relaxed);
            }
        }));
    }
    let publisher = &publisher;
    let result = paired_rounds(&seen, async |id, step| {
        publisher.send(&format!("jobsess-bench-{id}"), step).await;
    })
    .await;
    forward.abort();
    drop(fan_out);
    for task in tasks {
        let _ = task.await;
    }
    result
}

/// Alternating rounds of 50 writes to `"busy"`, which the tasks that note
/// their last step in `seen` follow, and to `"quiet"`, which nobody
/// follows: the watched target first in one round, the other first in the
/// next, each round starting once every follower has caught up, so that
/// the machine's drift hits both sides alike. The median time per write of
/// each side, and the median, lowest and highest ratio of the rounds.
async fn paired_rounds(
    seen: &[AtomicU32],
    mut write: impl AsyncFnMut(&'static str, u32),
) -> (Duration, Duration, [f64; 3]) {
    const WRITES: u32 = 50;
    const PAIRED_ROUNDS: u32 = 21;
    let mut step = 0;
    let mut write_round = async |id: &'static str| {
        let started = Instant::now();
        for _ in 0..WRITES {
            step += 1;
            write(id, step).await;
        }
        let elapsed = started.elapsed() / WRITES;
        // the next round starts once every follower has the last step, and
        // after the same pause whichever target this round wrote
        let last = step;
        let waited = Instant::now();
        while seen.iter().any(|s| s.load(Ordering::Relaxed) < last)
            && id == "busy"
            && waited.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        elapsed
    };
    let (mut alone, mut watched, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..PAIRED_ROUNDS {
        let (q, b) = if round % 2 == 0 {
            let q = write_round("quiet").await;
            (q, write_round("busy").await)
        } else {
            let b = write_round("busy").await;
            (write_round("quiet").await, b)
        };
        alone.push(q);
        watched.push(b);
        ratios.push(b.as_secs_f64() / q.as_secs_f64());
    }
    alone.sort_unstable();
    watched.sort_unstable();
    ratios.sort_by(f64::total_cmp);
    let middle = ratios.len() / 2;
    (
        alone[middle],
        watched[middle],
        [ratios[middle], ratios[0], ratios[ratios.len() - 1]],
    )
}

/// How many times the fan-out and writer-slowdown comparisons run; their
/// figure is the median of the runs' ratios.
const RUNS: usize = 3;

/// The median, lowest and highest of `values`.
fn spread(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    [
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    ]
}

/// The process's resident memory, from /proc (0 where there is none).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    // `cargo test --benches` and `cargo bench --no-run` build this; only a
    // real `cargo bench` run (which passes `--bench`) measures
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("watch benchmarks skipped: set REDIS_URL");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let url = Arc::<str>::from(url);
        // warm both paths up once, then measure
        let _ = raw_round_trip(&url).await;
        let _ = watched_round_trip(&url, 1).await;
        let raw = report("raw PUBLISH -> SUBSCRIBE", raw_round_trip(&url).await);
        let p50 = report(
            "store_field on A -> server-sent event from B over HTTP, 1 client",
            sse_round_trip(&url).await,
        );
        println!(
            "  ratio of p50 to the raw round trip: {:.2}x",
            p50.as_secs_f64() / raw.as_secs_f64()
        );
        // the pairs against hand floors: RUNS runs each, the median of
        // the runs' ratios and their spread
        for watchers in [1, 100, 1000] {
            let (mut ratios, mut script_ratios) = (Vec::new(), Vec::new());
            for run in 0..RUNS {
                let fan_out = report(
                    &format!("run {run}: raw PUBLISH -> SUBSCRIBE -> {watchers} tasks by hand"),
                    raw_fan_out(&url, watchers, Floor::Plain).await.0,
                );
                let (samples, script_writes) = raw_fan_out(&url, watchers, Floor::Script).await;
                let script = report(
                    &format!(
                        "run {run}: field-write script with jobsess's message -> SUBSCRIBE -> \
                         decoded -> {watchers} tasks by hand"
                    ),
                    samples,
                );
                let (samples, per_watcher, writes) = watched_round_trip(&url, watchers).await;
                // the write call alone, to its reply: how much of the
                // latency is the writer's side
                println!(
                    "  the write call to its reply, p50: the script floor's {:.1} µs, \
                     jobsess's store_field {:.1} µs",
                    percentile_of(script_writes, 0.5).as_secs_f64() * 1e6,
                    percentile_of(writes, 0.5).as_secs_f64() * 1e6,
                );
                let p50 = report(
                    &format!(
                        "run {run}: store_field on A -> watch_field event on B, {watchers} watchers"
                    ),
                    samples,
                );
                println!(
                    "  ratio of p50 to the raw round trip: {:.2}x, to the raw fan-out to as many \
                     tasks: {:.2}x, to the script floor: {:.2}x; memory per watcher: about {:.1} KB",
                    p50.as_secs_f64() / raw.as_secs_f64(),
                    p50.as_secs_f64() / fan_out.as_secs_f64(),
                    p50.as_secs_f64() / script.as_secs_f64(),
                    per_watcher / 1024.0
                );
                ratios.push(p50.as_secs_f64() / fan_out.as_secs_f64());
                script_ratios.push(p50.as_secs_f64() / script.as_secs_f64());
            }
            let [median, low, high] = spread(ratios);
            let [r_median, r_low, r_high] = spread(script_ratios);
            println!(
                "watch_fan_out/{watchers}: p50 {median:.3}x the hand fan-out's \
                 (median of {RUNS} runs; runs {low:.3}x to {high:.3}x), {r_median:.3}x the script \
                 floor's (runs {r_low:.3}x to {r_high:.3}x)"
            );
        }
        keyspace_against_publish().await;
        let (mut floors, mut scripts, mut ours) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..RUNS {
            let (alone, watched, [ratio, low, high]) =
                writes_with_consumers(&url, 200, Floor::Plain).await;
            println!(
                "run {run}: raw PUBLISH: {:.1} µs a write nobody listens to, {:.1} µs to a channel \
                 200 tasks of the same process follow by hand: {ratio:.3}x (rounds {low:.3}x to {high:.3}x)",
                alone.as_secs_f64() * 1e6,
                watched.as_secs_f64() * 1e6,
            );
            floors.push(ratio);
            let (alone, watched, [ratio, low, high]) =
                writes_with_consumers(&url, 200, Floor::Script).await;
            println!(
                "run {run}: the script floor: {:.1} µs a write nobody listens to, {:.1} µs to a \
                 channel 200 tasks follow by hand, the message decoded once: {ratio:.3}x \
                 (rounds {low:.3}x to {high:.3}x)",
                alone.as_secs_f64() * 1e6,
                watched.as_secs_f64() * 1e6,
            );
            scripts.push(ratio);
            let (alone, watched, [ratio, low, high]) = writes_with_watchers(&url, 200).await;
            println!(
                "run {run}: store_field on one instance: {:.1} µs a write to an unwatched job, \
                 {:.1} µs to a job 200 watchers on the same instance watch: {ratio:.3}x \
                 (rounds {low:.3}x to {high:.3}x)",
                alone.as_secs_f64() * 1e6,
                watched.as_secs_f64() * 1e6,
            );
            ours.push(ratio);
        }
        let of_floor: Vec<f64> = ours.iter().zip(&floors).map(|(o, f)| o / f).collect();
        let of_script: Vec<f64> = ours.iter().zip(&scripts).map(|(o, f)| o / f).collect();
        let [floor, ..] = spread(floors);
        let [script, ..] = spread(scripts);
        let [slowdown, s_low, s_high] = spread(ours);
        let [median, low, high] = spread(of_floor);
        println!(
            "watch_writer_slowdown/200: jobsess {slowdown:.3}x (runs {s_low:.3}x to {s_high:.3}x), \
             the raw floor {floor:.3}x, the script floor {script:.3}x: \
             {median:.3}x of the raw floor's (median of {RUNS} runs' quotients; runs {low:.3}x to {high:.3}x)"
        );
        let [median, low, high] = spread(of_script);
        println!(
            "watch_writer_slowdown/200: {median:.3}x of the script floor's \
             (runs {low:.3}x to {high:.3}x)"
        );
    });
}
