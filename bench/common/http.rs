//! An axum route through jobsess against the same route written by hand,
//! each served on 127.0.0.1 and driven over real sockets by keep-alive
//! clients: a small load generator in Rust, so that the bench needs
//! nothing beyond cargo and times both routes with the same client.

use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use jobsess::{AsyncJobSession, AsyncSessionBackend};

use super::job::{PluginInfo, TranscriptionJob, UserPreferences};

/// Rounds of [`compare`]: each drives both routes once, in turn.
const ROUNDS: usize = 6;
/// The concurrencies each route is driven at: clients at once, each
/// posting to its own job.
pub const CONCURRENCIES: [usize; 3] = [1, 16, 256];
/// The most clients at once: how many jobs a bench stores for them.
pub const CLIENTS: usize = 256;
/// How long each side is driven per round.
const LENGTH: Duration = Duration::from_secs(2);

/// What the routes write: preferences made from the plugin they read.
pub fn preferences_for(plugin: &PluginInfo) -> UserPreferences {
    UserPreferences {
        language: "en".into(),
        format: plugin.version.clone(),
    }
}

/// The route through jobsess, on any store: read job `id`'s
/// `plugin_info`, write its `user_preferences`, answer the plugin's title.
pub async fn through_jobsess<B>(
    State(jobs): State<AsyncJobSession<TranscriptionJob, B>>,
    Path(id): Path<String>,
) -> Result<String, jobsess::Error>
where
    B: AsyncSessionBackend,
{
    let plugin = jobs
        .load_field(&id, TranscriptionJob::PLUGIN_INFO)
        .await?
        .ok_or(jobsess::Error::JobNotFound { key: id.clone() })?;
    jobs.store_field(
        &id,
        TranscriptionJob::USER_PREFERENCES,
        &preferences_for(&plugin),
    )
    .await?;
    Ok(plugin.title)
}

/// Serves `app` on a free port of 127.0.0.1; its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// `clients` keep-alive clients, each posting to `{base}/jobs/http-{i}`
/// for `length`; requests per second and the p99 latency.
pub async fn drive(base: &str, clients: usize, length: Duration) -> (f64, Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (client, url) = (client.clone(), format!("{base}/jobs/http-{i}"));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < length {
                let sent = Instant::now();
                let response = client.post(&url).send().await.expect("answers");
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.bytes().await;
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a client"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    (latencies.len() as f64 / elapsed, p99)
}

/// Drives the raw route and jobsess's at each of [`CONCURRENCIES`], as
/// [`compare_at`] does.
pub fn compare(rt: &tokio::runtime::Runtime, name: &str, raw_base: &str, jobs_base: &str) {
    for clients in CONCURRENCIES {
        compare_at(
            rt,
            &format!("{name}/{clients}"),
            raw_base,
            jobs_base,
            clients,
        );
    }
}

/// Drives the raw route and jobsess's in [`ROUNDS`] alternating rounds
/// (`clients` clients, [`LENGTH`] a side) and prints each side's
/// requests per second and p99 per round, then the median throughput
/// ratio with the rounds' spread and the median p99 of each side.
pub fn compare_at(
    rt: &tokio::runtime::Runtime,
    name: &str,
    raw_base: &str,
    jobs_base: &str,
    clients: usize,
) {
    // warm-up: connections made, scripts and statements cached
    rt.block_on(drive(raw_base, clients, Duration::from_millis(300)));
    rt.block_on(drive(jobs_base, clients, Duration::from_millis(300)));
    let (mut ratios, mut p99s) = (Vec::new(), [Vec::new(), Vec::new()]);
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 {
            [("raw", raw_base), ("jobsess", jobs_base)]
        } else {
            [("jobsess", jobs_base), ("raw", raw_base)]
        };
        let mut rps = [0.0f64; 2];
        for (side, base) in order {
            let (per_second, p99) = rt.block_on(drive(base, clients, LENGTH));
            println!(
                "{name} round {round}: {side} {per_second:.0} req/s, p99 {:.2} ms",
                p99.as_secs_f64() * 1e3
            );
            let at = usize::from(side == "jobsess");
            rps[at] = per_second;
            p99s[at].push(p99.as_secs_f64() * 1e3);
        }
        ratios.push(rps[1] / rps[0]);
    }
    let [raw_p99, jobs_p99] = p99s;
    println!(
        "{name}: jobsess/raw throughput {:.3}x (median of {ROUNDS} rounds; rounds {:.3}x to {:.3}x), \
         p99 {:.2} ms against {:.2} ms (medians)",
        super::pairs::median(ratios.clone()),
        ratios.iter().copied().fold(f64::MAX, f64::min),
        ratios.iter().copied().fold(f64::MIN, f64::max),
        super::pairs::median(jobs_p99),
        super::pairs::median(raw_p99),
    );
}
