//! The transcription demo on axum + tower-sessions.
//!
//! ```sh
//! cargo run --example axum_app                                   # memory sessions, port 3000
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example axum_app  # sessions in Redis
//! cargo run --example axum_app -- --port 3001 --redis-url redis://127.0.0.1:6379
//! ```
//!
//! `PORT`/`--port` sets the port (default 3000). With `REDIS_URL`/`--redis-url`
//! sessions live in Redis and job metadata in the Redis job store: the
//! running job writes its progress there one field at a time, so a second
//! instance on another port shows the same job's progress live.

use std::time::Duration;

use jobsess_workspace::demo::{Runner, axum_app};

fn arg(flag: &str, env: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != flag);
    args.nth(1).or_else(|| std::env::var(env).ok())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port: u16 = arg("--port", "PORT").map_or(Ok(3000), |p| p.parse())?;
    let runner = Runner::new(Duration::from_millis(500));
    let (app, sessions) = match arg("--redis-url", "REDIS_URL") {
        Some(url) => (
            axum_app::redis_app(&url, runner).await?,
            format!("Redis at {url}, job metadata in the Redis job store"),
        ),
        None => (axum_app::memory_app(runner), "memory".to_owned()),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "axum demo on http://{} (sessions in {sessions})",
        listener.local_addr()?
    );
    axum_app::serve(listener, app).await?;
    Ok(())
}
