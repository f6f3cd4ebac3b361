use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(crate = "not a path")]
struct Job {
    file: String,
}

fn main() {}
