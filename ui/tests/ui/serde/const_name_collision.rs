use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[allow(non_snake_case)]
struct Job {
    ab: String,
    #[serde(rename = "other")]
    aB: String,
}

fn main() {}
