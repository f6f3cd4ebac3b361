//! Fields named like the trait's items: their consts shadow nothing.
use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "db-export")]
struct Job {
    schema: String,
    key_prefix: String,
    type_name: String,
    field_keys: Vec<String>,
}

fn main() {
    assert_eq!(Job::key_prefix(), "db-export");
    assert_eq!(Job::type_name(), "Job");
    assert_eq!(Job::schema().field_keys, Job::field_keys());
    assert_eq!(Job::SCHEMA.name(), "schema");
    assert_eq!(Job::KEY_PREFIX.name(), "key_prefix");
    assert_eq!(Job::TYPE_NAME.name(), "type_name");
    assert_eq!(Job::FIELD_KEYS.name(), "field_keys");
}
