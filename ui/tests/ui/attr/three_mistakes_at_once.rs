use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "a_b", colour = "red", prefix = "c")]
struct Job {
    #[job_metadata]
    file: String,
}

fn main() {}
