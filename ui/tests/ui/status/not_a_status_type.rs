use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(status = progress)]
struct Job {
    file: String,
    progress: u8,
}

fn main() {}
