use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(version = 2)]
struct Job {
    #[serde(alias = "jobsess:version")]
    release: u32,
}

fn main() {}
