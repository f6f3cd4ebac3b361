use jobsess::{JobMetadata, JobSession};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    file: String,
}

fn main() {
    let mut jobs = JobSession::<Job, _>::new(std::collections::HashMap::new());
    jobs.finish("a").unwrap();
}
