use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(rename_all = "camelCase")]
#[allow(non_snake_case)]
struct Job {
    file_name: String,
    fileName: String,
}

fn main() {}
