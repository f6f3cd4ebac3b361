use jobsess::{JobMetadata, JobSession};
use serde::{Deserialize, Serialize};

fn main() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    struct Local {
        #[serde(alias = "n")]
        name: String,
    }
    let mut session = std::collections::HashMap::new();
    session.insert("job_a".to_owned(), serde_json::json!({ "n": "x" }));
    let jobs = JobSession::<Local, _>::new(&mut session);
    assert_eq!(jobs.load_field("a", Local::NAME).unwrap().as_deref(), Some("x"));
}
