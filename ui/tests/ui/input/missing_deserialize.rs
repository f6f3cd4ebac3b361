use jobsess::JobMetadata;
use serde::Serialize;

#[derive(Serialize, JobMetadata)]
struct Job {
    file: String,
}

fn main() {}
