use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    #[job_metadata(prefix = "x")]
    file: String,
}

fn main() {}
