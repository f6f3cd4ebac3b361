//! serde merges `rename_all` and `rename` given one side per attribute.
use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(rename_all(serialize = "camelCase"))]
#[serde(rename_all(deserialize = "camelCase"))]
struct Job {
    file_name: String,
    #[serde(rename(serialize = "p"))]
    #[serde(rename(deserialize = "p"))]
    plugin_id: String,
}

fn main() {
    assert_eq!(Job::field_keys(), ["fileName", "p"]);
}
