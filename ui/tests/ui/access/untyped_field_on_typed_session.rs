use jobsess::{JobMetadata, JobSession};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize, Deserialize)]
pub struct PluginInfo {
    pub title: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
pub struct TranscriptionJob {
    pub file_name: String,
    pub plugin_info: PluginInfo,
    #[serde(skip)]
    pub scratch: Vec<u8>,
}

fn main() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    let _ = jobs.store_field("job-1", jobsess::Field::untyped("file_name"), &serde_json::json!(1));
}
