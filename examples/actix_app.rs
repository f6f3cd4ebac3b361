//! The transcription demo on actix-web + actix-session (cookie sessions).
//!
//! ```sh
//! cargo run --example actix_app                      # port 3000
//! cargo run --example actix_app -- --port 3001
//! ```
//!
//! `PORT`/`--port` sets the port (default 3000). The cookie key is made anew
//! at each start, so sessions end with the process.

use std::time::Duration;

use actix_web::cookie::Key;
use jobsess_workspace::demo::{Runner, actix_app};

fn arg(flag: &str, env: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != flag);
    args.nth(1).or_else(|| std::env::var(env).ok())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port: u16 = arg("--port", "PORT")
        .map_or(Ok(3000), |p| p.parse())
        .map_err(std::io::Error::other)?;
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    println!("actix-web demo on http://{}", listener.local_addr()?);
    actix_app::server(
        listener,
        Key::generate(),
        Runner::new(Duration::from_millis(500)),
    )?
    .await
}
