use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    file: String,
}

impl Job {
    const FILE: u8 = 1;
}

fn main() {}
