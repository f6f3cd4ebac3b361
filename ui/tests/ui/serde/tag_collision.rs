use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(tag = "kind")]
struct Job {
    kind: String,
    file: String,
}

fn main() {}
