use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

// A cycle needs a type whose version is below its own: each link is refused.
#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 1, migrate_from = JobB)]
struct JobA {
    file: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 2, migrate_from = JobA)]
struct JobB {
    file: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 3, migrate_from = JobC)]
struct JobC {
    file: String,
}

impl From<JobB> for JobA {
    fn from(b: JobB) -> Self {
        JobA { file: b.file }
    }
}

impl From<JobA> for JobB {
    fn from(a: JobA) -> Self {
        JobB { file: a.file }
    }
}

fn main() {}
