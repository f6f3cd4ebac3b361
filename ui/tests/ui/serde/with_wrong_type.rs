use jobsess::JobMetadata;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod as_string {
    use super::*;
    pub fn serialize<S: Serializer>(value: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    #[serde(with = "as_string")]
    size: u64,
}

fn main() {}
