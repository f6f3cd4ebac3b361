//! The benches' workload: the notebook's job-123 as the typed
//! `TranscriptionJob`, stored under `job_job-123`.

use jobsess::JobMetadata;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FileInfo {
    pub name: String,
    pub path: String,
    pub size: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PluginInfo {
    pub id: String,
    pub title: String,
    pub version: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct UserPreferences {
    pub language: String,
    pub format: String,
}

/// The notebook's job-123.
#[derive(Serialize, Deserialize, JobMetadata, Clone, Debug, PartialEq)]
pub struct TranscriptionJob {
    pub file_info: FileInfo,
    pub plugin_info: PluginInfo,
    pub user_preferences: UserPreferences,
}

pub fn job_123() -> TranscriptionJob {
    TranscriptionJob {
        file_info: FileInfo {
            name: "interview.mp3".into(),
            path: "/media/audio/interview.mp3".into(),
            size: 1_024_000,
        },
        plugin_info: PluginInfo {
            id: "whisper_large".into(),
            title: "Whisper Large".into(),
            version: "3.0".into(),
        },
        user_preferences: UserPreferences {
            language: "en".into(),
            format: "srt".into(),
        },
    }
}

/// The id the benches store job-123 under.
pub const ID: &str = "job-123";
