use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(transparent)]
struct Job {
    file: String,
}

fn main() {}
