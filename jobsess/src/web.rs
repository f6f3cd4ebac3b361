//! What the web integrations share: how an [`Error`] answers a request,
//! and server-sent events.

#[cfg(any(feature = "axum", feature = "actix"))]
use crate::error::Error;

#[cfg(feature = "watch")]
mod sse;
#[cfg(feature = "watch")]
pub use sse::{DONE_EVENT, LastEventId, SseEvent};

/// Seconds a client should wait before retrying a 503 (a store that is
/// down or timed out), sent as `Retry-After`.
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) const RETRY_AFTER: &str = "1";

/// The status and public body that answer `err`, logging a server error in
/// full. Client errors (a bad id, a missing job, a session over budget)
/// answer with their message; server errors (corrupt data, a failing store)
/// answer with a generic text, so no internals reach the client.
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) fn response_parts(err: &Error) -> (u16, String) {
    let status = err.http_status();
    if status >= 500 {
        // 503: a store that is down; 500: data that doesn't decode
        tracing::error!(error = %err, "jobsess: request failed");
        (status, "internal server error".to_owned())
    } else {
        (status, err.to_string())
    }
}

/// How long an event stream may stay silent before a keep-alive comment
/// goes out, so proxies and browsers keep the connection open.
#[cfg(all(feature = "watch", any(feature = "axum", feature = "actix")))]
pub(crate) const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// How long a browser waits before it reconnects to an event stream that
/// broke, sent as the first event's `retry:`.
#[cfg(all(feature = "watch", any(feature = "axum", feature = "actix")))]
pub(crate) const RECONNECT_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// The server-sent events of a watch stream, each item through `render`
/// (an error as an `error` event), and once a job ended, one more:
/// [`DONE_EVENT`](crate::watch::DONE_EVENT), with the data of the event
/// before it; if there was none (a browser that had the final state
/// already), how the job ended: `finished`, `failed` or `cancelled` (an
/// event with no data never reaches a page). Then the events end. Each event of
/// a state carries the state's revision, its `id:` (an error none), so a
/// browser that reconnects sends it back as `Last-Event-ID`.
#[cfg(all(feature = "watch", any(feature = "axum", feature = "actix")))]
pub(crate) fn sse_events<T, R>(
    watch: crate::handle::watch::Watch<T>,
    render: R,
) -> impl futures_util::Stream<Item = (SseEvent, Option<u64>)> + use<T, R>
where
    R: FnMut(T) -> SseEvent,
{
    use futures_util::StreamExt;

    /// Where the events stand: watching (with the last event's data), or
    /// the `done` event left to send.
    enum State<T, R> {
        Watching(crate::handle::watch::Watch<T>, R, String),
        Done(SseEvent, Option<u64>),
    }
    let start = State::Watching(watch, render, String::new());
    futures_util::stream::unfold(Some(start), |state| async move {
        match state? {
            State::Done(done, id) => Some(((done, id), None)),
            State::Watching(mut watch, mut render, last) => match watch.next().await {
                Some(item) => {
                    let id = item.is_ok().then(|| watch.id()).flatten();
                    let event = SseEvent::of(item, &mut render);
                    let next = if watch.end().is_some() {
                        State::Done(SseEvent::named(DONE_EVENT, event.data()), watch.id())
                    } else {
                        State::Watching(watch, render, event.data().to_owned())
                    };
                    Some(((event, id), Some(next)))
                }
                None => watch.end().map(|end| {
                    let data = if last.is_empty() {
                        ended(end).to_owned()
                    } else {
                        last
                    };
                    ((SseEvent::named(DONE_EVENT, data), watch.id()), None)
                }),
            },
        }
    })
}

/// How a job ended, in a word.
#[cfg(all(feature = "watch", any(feature = "axum", feature = "actix")))]
fn ended(end: &crate::model::metadata::End) -> &'static str {
    use crate::model::metadata::End;
    match end {
        End::Finished => "finished",
        End::Failed(_) => "failed",
        End::Cancelled => "cancelled",
    }
}

/// Logs why an extractor found the app misconfigured; the request answers
/// 500 with a generic body.
#[cfg(all(
    any(feature = "axum", feature = "actix"),
    any(
        feature = "axum",
        feature = "redis",
        feature = "postgres",
        feature = "postgres-sqlx-09",
        feature = "sqlite",
        feature = "sqlite-sqlx-09",
        feature = "memory-store"
    )
))]
pub(crate) fn misconfigured(reason: &str) {
    tracing::error!("jobsess: {reason}");
}

#[cfg(all(test, any(feature = "axum", feature = "actix")))]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_details() {
        let err = Error::backend(crate::Op::Read, "job_a", "redis at 10.0.0.3 refused");
        assert_eq!(
            response_parts(&err),
            (503, "internal server error".to_owned())
        );
        let err = Error::NotAnObject {
            key: "job_a".into(),
            type_name: "Job".into(),
            found: "a string",
        };
        assert_eq!(
            response_parts(&err),
            (500, "internal server error".to_owned())
        );
        let err = Error::JobNotFound {
            key: "job_a".into(),
        };
        assert_eq!(response_parts(&err).0, 404);
        assert!(response_parts(&err).1.contains("job_a"));
    }
}
