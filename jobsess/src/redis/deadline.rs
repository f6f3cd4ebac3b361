//! Deadlines for writes. A client that times a command out answers its
//! caller with an error, but the server may still have the command: held
//! by a `CLIENT PAUSE`, queued behind a slow script, or sent again by a
//! client after it reconnected. Run then, the write would land after its
//! caller was told it failed, possibly over a newer write that succeeded.
//! So each write carries the server time after which its client will have
//! given up on it, and its script refuses to run later than that.
//!
//! The deadline is in the server's clock: this module reads the server's
//! `TIME` once a minute (one round trip) to know the offset between the
//! clocks, and takes the uncertainty of that reading off the deadline, so
//! a deadline is never later than the moment the caller gets its error.
//! On a Redis Cluster `TIME` is answered by any one node: the nodes' clocks
//! must agree (as NTP keeps them) to well within the command timeout, or a
//! node whose clock runs ahead refuses writes as late. A clock that jumps
//! between two readings does the same until the next reading.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fred::clients::Client;
use fred::interfaces::ClientLike;

/// How long a reading of the server's clock is used before it is read again.
const REFRESH: Duration = Duration::from_secs(60);

/// What is known of the server's clock against this machine's.
#[derive(Default)]
pub(super) struct ServerClock {
    /// When it was read, the server's time minus ours, and how far off
    /// that may be (half the round trip, and the rounding), in ms.
    reading: Mutex<Option<(Instant, i64, i64)>>,
}

impl ServerClock {
    /// The deadline to send with a write on `client`: the server time (ms
    /// since the epoch) after which `client` will have timed the write
    /// out, or empty if `client` has no command timeout (it waits for
    /// every answer, so no write of it outlives its caller's wait).
    pub(super) async fn deadline(&self, client: &Client) -> Result<String, fred::error::Error> {
        let timeout = client.perf_config().default_command_timeout;
        if timeout.is_zero() {
            return Ok(String::new());
        }
        let sent = now_ms();
        let (offset, slack) = self.offset(client).await?;
        let timeout = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        Ok(sent
            .saturating_add(offset)
            .saturating_add(timeout)
            .saturating_sub(slack)
            .to_string())
    }

    /// The latest time (ms since the epoch) that the server's clock can
    /// read now: a time it has certainly not passed yet.
    pub(super) async fn latest_now(&self, client: &Client) -> Result<i64, fred::error::Error> {
        let (offset, slack) = self.offset(client).await?;
        Ok(now_ms().saturating_add(offset).saturating_add(slack))
    }

    /// The server's clock minus ours, and the uncertainty of that, in ms.
    async fn offset(&self, client: &Client) -> Result<(i64, i64), fred::error::Error> {
        if let Some((read_at, offset, slack)) = *self.lock()
            && read_at.elapsed() < REFRESH
        {
            return Ok((offset, slack));
        }
        let before = now_ms();
        let started = Instant::now();
        let (seconds, micros): (i64, i64) = client
            .custom(fred::cmd!("TIME"), Vec::<String>::new())
            .await?;
        let round_trip = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let server = seconds.saturating_mul(1000).saturating_add(micros / 1000);
        // the server read its clock somewhere within the round trip
        let offset = server - (before + round_trip / 2);
        let slack = round_trip / 2 + 2;
        *self.lock() = Some((Instant::now(), offset, slack));
        Ok((offset, slack))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, i64, i64)>> {
        // a reading is replaced whole, so a poisoned lock still holds one
        self.reading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// This machine's clock, in ms since the epoch.
fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_reads_milliseconds_since_the_epoch() {
        // 2020-01-01 < now < 2100-01-01
        let now = super::now_ms();
        assert!(
            (1_577_836_800_000..4_102_444_800_000).contains(&now),
            "{now}"
        );
    }
}
