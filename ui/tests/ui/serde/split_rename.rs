use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    #[serde(rename(serialize = "fileName", deserialize = "file_name"))]
    file: String,
}

fn main() {}
