use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 2)]
struct JobV1 {
    file: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 2, migrate_from = JobV1)]
struct Job {
    file: String,
}

impl From<JobV1> for Job {
    fn from(v1: JobV1) -> Self {
        Job { file: v1.file }
    }
}

fn main() {}
