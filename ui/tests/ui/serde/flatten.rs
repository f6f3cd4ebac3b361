use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Extra {
    note: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    file: String,
    #[serde(flatten)]
    extra: Extra,
}

fn main() {}
