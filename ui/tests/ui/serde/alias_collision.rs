use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    file: String,
    #[serde(alias = "file")]
    path: String,
}

fn main() {}
