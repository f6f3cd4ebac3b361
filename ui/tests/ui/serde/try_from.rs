use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata, Clone)]
#[serde(try_from = "String")]
struct Job {
    file: String,
}

impl TryFrom<String> for Job {
    type Error = String;
    fn try_from(file: String) -> Result<Self, String> {
        Ok(Job { file })
    }
}

fn main() {}
