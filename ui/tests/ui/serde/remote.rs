use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

mod other {
    pub struct Job {
        pub file: String,
    }
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(remote = "other::Job")]
struct JobDef {
    file: String,
}

fn main() {}
