use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(tag = "jobsess:version")]
#[job_metadata(version = 2)]
struct Job {
    file: String,
}

fn main() {}
