use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    file_name: String,
    #[serde(rename = "file_name")]
    name: String,
}

fn main() {}
