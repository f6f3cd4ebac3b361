use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone)]
struct Wire(String);

impl From<Wire> for Job {
    fn from(wire: Wire) -> Self {
        Job { file: wire.0 }
    }
}

impl From<Job> for Wire {
    fn from(job: Job) -> Self {
        Wire(job.file)
    }
}

#[derive(Serialize, Deserialize, JobMetadata, Clone)]
#[serde(into = "Wire", from = "Wire")]
struct Job {
    file: String,
}

fn main() {}
