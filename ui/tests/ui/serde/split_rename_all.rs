use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(rename_all(serialize = "camelCase", deserialize = "snake_case"))]
struct Job {
    file_name: String,
}

fn main() {}
