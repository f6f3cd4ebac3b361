use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefx = "transcription")]
struct Job {
    file: String,
}

fn main() {}
