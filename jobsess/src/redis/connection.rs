//! The connection: a fred pool configured to recover from a restart, and
//! the server's address as errors name it (never the URL's credentials).

use fred::clients::Pool;

use crate::error::{Error, Op, Result};

/// A fred pool of `size` connections to the Redis at `url`, configured as
/// [`RedisJobStore::connect`](super::RedisJobStore::connect) configures its own: it reconnects forever,
/// 100 ms apart, so it serves again as soon as Redis is back after a
/// restart; a command that gets no answer within 1 s fails (a web request
/// answers 503 during an outage); a command is sent once, never again after
/// a broken connection. Use it for the app's other Redis clients too, such
/// as tower-sessions-redis-store's session store, so they recover as well.
///
/// ```no_run
/// # async fn run() -> Result<(), jobsess::Error> {
/// let pool = jobsess::redis::connect_pool("redis://127.0.0.1:6379", 2).await?;
/// let store = jobsess::redis::RedisJobStore::new(pool.clone());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::Backend`] for a bad URL or a Redis that doesn't answer, naming
/// the server's host and port, never the URL's credentials.
pub async fn connect_pool(url: &str, size: usize) -> Result<Pool> {
    use fred::interfaces::ClientLike;
    use fred::types::Builder;
    use fred::types::config::{Config, ReconnectPolicy};
    use std::time::Duration;

    let address = server_address(url);
    let failed = |err: fred::error::Error| {
        Error::store_backend(crate::redis::STORE, Op::Read, &address, err)
    };
    let config = Config::from_url(url).map_err(|_| {
        Error::store_backend(
            crate::redis::STORE,
            Op::Read,
            &address,
            "not a Redis URL (redis://[user:password@]host[:port][/db])",
        )
    })?;
    let pool = Builder::from_config(config)
        .with_performance_config(|perf| perf.default_command_timeout = Duration::from_secs(1))
        .with_connection_config(|conn| {
            conn.connection_timeout = Duration::from_secs(1);
            conn.internal_command_timeout = Duration::from_secs(1);
            conn.max_command_attempts = 1;
        })
        .set_policy(ReconnectPolicy::new_constant(0, 100))
        .build_pool(size)
        .map_err(failed)?;
    pool.init().await.map_err(failed)?;
    Ok(pool)
}

/// The `scheme://host:port` of a Redis URL, without its credentials.
fn server_address(url: &str) -> String {
    crate::store::server_address(url, "redis")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_server_never_the_credentials() {
        assert_eq!(
            server_address("redis://:secret@db.internal:6380/2?x=1"),
            "redis://db.internal:6380"
        );
        assert_eq!(server_address("rediss://user:pw@h"), "rediss://h");
        assert_eq!(server_address("127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[tokio::test]
    async fn a_failed_connect_names_host_and_port_not_the_password() {
        for url in [
            // nothing listens on port 1
            "redis://:s3cret-pw@127.0.0.1:1",
            "redis://alice:s3cret-pw@127.0.0.1:1/0",
            // not a URL fred reads
            "redis://:s3cret-pw@127.0.0.1:notaport",
        ] {
            let err = connect_pool(url, 1).await.map(drop).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("s3cret"), "{text}");
            assert!(text.contains("127.0.0.1"), "{text}");
        }
    }
}
