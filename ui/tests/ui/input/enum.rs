use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
enum Job {
    Running,
    Done,
}

fn main() {}
