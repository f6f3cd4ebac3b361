use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 1)]
struct JobV1 {
    file: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 2, migrate_from = JobV1)]
struct Job {
    file: String,
}

fn main() {}
