use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct OldJob {
    file: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 2, migrate_from = OldJob)]
struct Job {
    file: String,
}

impl From<OldJob> for Job {
    fn from(old: OldJob) -> Self {
        Job { file: old.file }
    }
}

fn main() {}
