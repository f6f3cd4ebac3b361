//! Server-sent events, the web edge of watching: [`SseEvent`], what a
//! render function makes of a change, and [`DONE_EVENT`], the event after
//! a job's last state.

/// One server-sent event as a render function makes it from a change of a
/// watched job, for `jobsess::axum::sse_with` and `jobsess::actix::sse_with`:
/// an event name (none: the default, `message`) and any text as data, such
/// as an HTML fragment that htmx's SSE extension swaps in
/// (`sse-swap="progress"`). Line breaks in the data are sent as SSE sends
/// them (one `data:` line each), so the client gets the text back whole.
///
/// ```
/// use jobsess::watch::SseEvent;
/// let event = SseEvent::named("progress", r#"<progress value="40" max="100"></progress>"#);
/// assert_eq!(event.name(), Some("progress"));
/// assert_eq!(SseEvent::message("{}").name(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    name: Option<String>,
    data: String,
}

impl SseEvent {
    /// A `message` event (the default name) with `data`.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::message("40").data(), "40");
    /// ```
    pub fn message(data: impl Into<String>) -> Self {
        SseEvent {
            name: None,
            data: data.into(),
        }
    }

    /// An event named `name` with `data`. A line break can't stand in an
    /// event name: any in `name` are left out.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::named("pro\ngress", "").name(), Some("progress"));
    /// ```
    pub fn named(name: impl Into<String>, data: impl Into<String>) -> Self {
        let mut name = name.into();
        name.retain(|c| c != '\r' && c != '\n');
        SseEvent {
            name: Some(name),
            data: data.into(),
        }
    }

    /// The event's name; `None` for the default, `message`.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::named("done", "").name(), Some("done"));
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The event's data.
    ///
    /// ```
    /// assert_eq!(jobsess::watch::SseEvent::named("p", "<b>1</b>").data(), "<b>1</b>");
    /// ```
    #[must_use]
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The event as a JSON `message`: what `sse` sends for each item.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn json<T: serde::Serialize>(value: T) -> Self {
        match serde_json::to_string(&value) {
            Ok(json) => SseEvent::message(json),
            Err(err) => {
                tracing::error!(error = %err, "jobsess: an event doesn't encode");
                SseEvent::named("error", "internal server error")
            }
        }
    }

    /// An item of a watch stream through `render`; an error is an `error`
    /// event with the public text a web response would carry.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn of<T>(
        item: crate::error::Result<T>,
        render: &mut impl FnMut(T) -> SseEvent,
    ) -> Self {
        match item {
            Ok(value) => render(value),
            Err(err) => SseEvent::named("error", crate::web::response_parts(&err).1),
        }
    }
}

/// The name of the last server-sent event of a job that ended (finished,
/// failed or cancelled), sent by `jobsess::axum::sse` and
/// `jobsess::actix::sse` (and their `sse_with`) after the event of the
/// job's last state, with the same data; then the response ends. An htmx
/// page closes its connection on it (`sse-close="done"`), and a script's
/// `EventSource` on `addEventListener("done", () => source.close())`, so
/// the browser doesn't reconnect to a stream that has nothing more to say.
///
/// ```
/// assert_eq!(jobsess::watch::DONE_EVENT, "done");
/// ```
pub const DONE_EVENT: &str = "done";

/// The `Last-Event-ID` a browser sends when it reconnects to an event
/// stream: the revision of the last state it got (the `id:` that
/// jobsess's events carry). An extractor for axum (feature `axum`) and
/// actix-web (feature `actix`); `None` when the header is absent or no
/// revision. Hand it to [`Watch::since`](crate::watch::Watch::since), and
/// the stream leaves out what the browser has.
///
/// ```
/// use jobsess::watch::LastEventId;
/// assert_eq!(LastEventId::parse("42"), LastEventId(Some(42)));
/// assert_eq!(LastEventId::parse("not a revision"), LastEventId(None));
/// let since: Option<u64> = LastEventId(Some(7)).into();
/// assert_eq!(since, Some(7));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastEventId(pub Option<u64>);

impl LastEventId {
    /// The name of the header.
    pub const HEADER: &str = "last-event-id";

    /// The header's value as a revision.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        LastEventId(value.trim().parse().ok())
    }
}

impl From<LastEventId> for Option<u64> {
    fn from(last: LastEventId) -> Self {
        last.0
    }
}
