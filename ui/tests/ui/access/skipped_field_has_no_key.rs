use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

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
    let _ = TranscriptionJob::SCRATCH;
}
