use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

struct PluginInfo {
    title: String,
}

#[derive(Serialize, Deserialize, JobMetadata)]
struct Job {
    plugin_info: PluginInfo,
}

fn main() {}
