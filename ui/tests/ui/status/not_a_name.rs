use jobsess::{JobMetadata, Status};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(status = "status")]
struct Job {
    status: Status,
}

fn main() {}
