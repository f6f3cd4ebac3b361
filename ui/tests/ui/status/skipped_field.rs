use jobsess::{JobMetadata, Status};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(status = status)]
struct Job {
    file: String,
    #[serde(skip)]
    status: Status,
}

fn main() {}
