use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = -1)]
struct Job {
    file: String,
}

fn main() {}
