//! What the benches share.

pub mod http;
pub mod instead;
pub mod job;
pub mod pairs;

/// A runtime of one worker thread, for the benches on a server: the
/// database takes the machine's other core.
pub fn one_worker() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
}
