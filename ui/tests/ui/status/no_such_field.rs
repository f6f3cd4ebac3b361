use jobsess::{JobMetadata, Status};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(status = state)]
struct Job {
    file: String,
    status: Status,
}

fn main() {}
