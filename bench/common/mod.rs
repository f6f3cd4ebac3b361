//! What the lab's benches share. The workload, the pair runners and the
//! floors on a map and a `Session` are the microbenches' own files
//! (`benches/common/`); the HTTP comparison and the "instead" rows are the
//! lab's.

#[path = "../../benches/common/harness.rs"]
pub mod harness;
#[path = "../../benches/common/job.rs"]
pub mod job;
#[path = "../../benches/common/pairs.rs"]
pub mod pairs;
#[path = "../../benches/common/tower_floor.rs"]
pub mod tower_floor;

pub mod http;
pub mod instead;

/// A runtime of one worker thread, for the benches on a server: the
/// database takes the machine's other core.
pub fn one_worker() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
}
