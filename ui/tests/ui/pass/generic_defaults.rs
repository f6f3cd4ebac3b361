//! `#[serde(default)]` on generic fields and on a generic container compiles
//! whenever serde's derive does, and the consts work for any T that fits.
use jobsess::{JobMetadata, JobSession};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job<T, U> {
    #[serde(default)]
    value: T,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    list: Vec<U>,
    name: String,
}

#[derive(Serialize, Deserialize, JobMetadata, Default)]
#[serde(default)]
struct Defaults<T> {
    value: T,
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: serde::de::DeserializeOwned"))]
struct Bounded<T> {
    inner: Option<T>,
}

fn main() {
    let mut session = std::collections::HashMap::new();
    session.insert("job_a".to_owned(), serde_json::json!({ "name": "n" }));
    let jobs = JobSession::<Job<u8, String>, _>::new(&mut session);
    assert_eq!(jobs.load_field("a", Job::<u8, String>::VALUE).unwrap(), Some(0));
    assert_eq!(Defaults::<Vec<u8>>::VALUE.default_value(), Some(Vec::new()));
    assert_eq!(Bounded::<u8>::INNER.name(), "inner");
}
