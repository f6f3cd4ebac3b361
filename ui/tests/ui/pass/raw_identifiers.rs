use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    r#type: String,
    r#match: u8,
}

fn main() {
    assert_eq!(Job::TYPE.name(), "type");
    assert_eq!(Job::MATCH.name(), "match");
}
