//! Every behaviour of the Python `JobSessionManager` notebook, typed.

use std::collections::HashMap;

use jobsess::{Field, JobMetadata, JobSession, UntypedJob};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
struct FileInfo {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
struct PluginInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
struct UserPreferences {
    language: String,
    format: String,
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, Clone, PartialEq)]
struct TranscriptionJob {
    file_info: FileInfo,
    plugin_info: PluginInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_preferences: Option<UserPreferences>,
}

fn job_123() -> TranscriptionJob {
    TranscriptionJob {
        file_info: FileInfo {
            name: "interview.mp3".into(),
            path: Some("/media/audio/interview.mp3".into()),
            size: Some(1_024_000),
        },
        plugin_info: PluginInfo {
            id: Some("whisper_large".into()),
            title: "Whisper Large".into(),
            version: Some("3.0".into()),
        },
        user_preferences: Some(UserPreferences {
            language: "en".into(),
            format: "srt".into(),
        }),
    }
}

fn short(file: &str, plugin: &str) -> TranscriptionJob {
    TranscriptionJob {
        file_info: FileInfo {
            name: file.into(),
            ..FileInfo::default()
        },
        plugin_info: PluginInfo {
            title: plugin.into(),
            ..PluginInfo::default()
        },
        user_preferences: None,
    }
}

fn job_123_json() -> Value {
    json!({
        "file_info": {"name": "interview.mp3", "path": "/media/audio/interview.mp3", "size": 1024000},
        "plugin_info": {"id": "whisper_large", "title": "Whisper Large", "version": "3.0"},
        "user_preferences": {"language": "en", "format": "srt"}
    })
}

#[test]
fn store_writes_the_notebook_layout() {
    let mut session = HashMap::new();
    JobSession::<TranscriptionJob, _>::new(&mut session)
        .store("job-123", &job_123())
        .unwrap();
    // {'job_job-123': {'file_info': {...}, 'plugin_info': {...}, 'user_preferences': {...}}}
    assert_eq!(session.len(), 1);
    assert_eq!(session["job_job-123"], job_123_json());
}

#[test]
fn get_job_metadata_reads_it_back() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store("job-123", &job_123()).unwrap();
    let meta = jobs.load("job-123").unwrap().unwrap();
    assert_eq!(meta.file_info.name, "interview.mp3");
    assert_eq!(meta.plugin_info.title, "Whisper Large");
    assert_eq!(meta.user_preferences.unwrap().language, "en");
}

#[test]
fn metadata_written_by_the_python_layout_loads() {
    // A session filled by other code at the notebook's keys is readable.
    let mut session: HashMap<String, Value> = HashMap::new();
    session.insert("job_job-123".into(), job_123_json());
    let jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    assert_eq!(jobs.load("job-123").unwrap(), Some(job_123()));
}

#[test]
fn multiple_jobs_live_side_by_side() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store("job-123", &job_123()).unwrap();
    jobs.store("job-456", &short("podcast.mp3", "Faster Whisper"))
        .unwrap();
    jobs.store("job-789", &short("lecture.mp4", "Voxtral"))
        .unwrap();
    assert_eq!(jobs.ids().unwrap(), ["job-123", "job-456", "job-789"]);
    assert_eq!(
        session["job_job-456"],
        json!({"file_info": {"name": "podcast.mp3"}, "plugin_info": {"title": "Faster Whisper"}})
    );
    assert_eq!(
        session["job_job-789"],
        json!({"file_info": {"name": "lecture.mp4"}, "plugin_info": {"title": "Voxtral"}})
    );
}

#[test]
fn missing_job_gives_the_default() {
    let session: HashMap<String, Value> = HashMap::new();
    let jobs = JobSession::<UntypedJob, _>::new(session);
    // get_job_metadata("job-999", default={"error": "Not found"})
    let fallback = json!({"error": "Not found"}).as_object().unwrap().clone();
    assert_eq!(jobs.load_or("job-999", fallback.clone()).unwrap(), fallback);
    // get_job_metadata("job-999") -> {}
    assert!(jobs.load_or_default("job-999").unwrap().is_empty());
    assert_eq!(jobs.load("job-999").unwrap(), None);
}

#[test]
fn delete_removes_one_job() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store("job-123", &job_123()).unwrap();
    jobs.store("job-456", &short("podcast.mp3", "Faster Whisper"))
        .unwrap();
    assert!(jobs.delete("job-456").unwrap());
    // delete_job_metadata on a missing job is not an error in the notebook either
    assert!(!jobs.delete("job-456").unwrap());
    assert!(!jobs.contains("job-456").unwrap());
    assert!(jobs.contains("job-123").unwrap());
    assert_eq!(session.keys().collect::<Vec<_>>(), ["job_job-123"]);
}

#[test]
fn clear_removes_the_jobs_of_its_prefix_only() {
    let mut session = HashMap::new();
    session.insert("user".to_owned(), json!("ann"));
    session.insert("jobs".to_owned(), json!(["not a job"]));
    session.insert(
        "processing_task-001".to_owned(),
        json!({"status": "running"}),
    );
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store("job-123", &job_123()).unwrap();
    jobs.store("job-789", &short("lecture.mp4", "Voxtral"))
        .unwrap();
    assert_eq!(jobs.clear().unwrap(), 2);
    assert_eq!(jobs.clear().unwrap(), 0);
    let mut left: Vec<_> = session.keys().cloned().collect();
    left.sort();
    assert_eq!(left, ["jobs", "processing_task-001", "user"]);
}

#[test]
fn custom_prefix_processing() {
    // JobSessionManager({}, prefix="processing").store_job_metadata("task-001", {"status": "running"})
    let mut session = HashMap::new();
    let mut jobs = JobSession::<UntypedJob, _>::with_prefix(&mut session, "processing").unwrap();
    let meta = json!({"status": "running"}).as_object().unwrap().clone();
    jobs.store("task-001", &meta).unwrap();
    jobs.store_field("task-001", Field::untyped("status"), &json!("done"))
        .unwrap();
    assert_eq!(
        session,
        HashMap::from([("processing_task-001".to_owned(), json!({"status": "done"}))])
    );
}

#[test]
fn derived_prefix_and_runtime_override() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[job_metadata(prefix = "processing")]
    struct Processing {
        status: String,
    }
    let mut session = HashMap::new();
    JobSession::<Processing, _>::new(&mut session)
        .store(
            "task-001",
            &Processing {
                status: "running".into(),
            },
        )
        .unwrap();
    JobSession::<Processing, _>::with_prefix(&mut session, "archive")
        .unwrap()
        .store(
            "task-001",
            &Processing {
                status: "old".into(),
            },
        )
        .unwrap();
    assert_eq!(session["processing_task-001"], json!({"status": "running"}));
    assert_eq!(session["archive_task-001"], json!({"status": "old"}));
    for bad in ["", "a_b", "a b", "ü"] {
        let err = JobSession::<Processing, _>::with_prefix(&mut session, bad).unwrap_err();
        assert!(
            matches!(err, jobsess::Error::InvalidPrefix { .. }),
            "{bad:?}"
        );
    }
}

#[test]
fn route_simulation_start_monitor_results() {
    #[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
    struct RouteJob {
        file_info: FileInfo,
        plugin_info: PluginInfo,
        started_at: String,
    }
    let mut session: HashMap<String, Value> = HashMap::new();

    // Step 1: start_job_route
    let mut jobs = JobSession::<RouteJob, _>::new(&mut session);
    jobs.store(
        "job-abc",
        &RouteJob {
            file_info: FileInfo {
                name: "meeting.mp3".into(),
                ..FileInfo::default()
            },
            plugin_info: PluginInfo {
                title: "Whisper".into(),
                ..PluginInfo::default()
            },
            started_at: "2025-01-01T00:00:00".into(),
        },
    )
    .unwrap();

    // Step 2: monitor_job_route, a later request: a new handle on the same session
    let jobs = JobSession::<RouteJob, _>::new(&mut session);
    let file = jobs
        .load_field("job-abc", RouteJob::FILE_INFO)
        .unwrap()
        .unwrap();
    let plugin = jobs
        .load_field("job-abc", RouteJob::PLUGIN_INFO)
        .unwrap()
        .unwrap();
    assert_eq!(
        format!(
            "Monitoring job job-abc: {} using {}",
            file.name, plugin.title
        ),
        "Monitoring job job-abc: meeting.mp3 using Whisper"
    );
    assert_eq!(jobs.load("job-zzz").unwrap(), None); // "Job job-zzz not found"

    // Step 3: show_results_route
    let meta = jobs.load("job-abc").unwrap().unwrap();
    assert_eq!(meta.started_at, "2025-01-01T00:00:00");

    assert_eq!(
        serde_json::to_value(&session).unwrap(),
        json!({"job_job-abc": {
            "file_info": {"name": "meeting.mp3"},
            "plugin_info": {"title": "Whisper"},
            "started_at": "2025-01-01T00:00:00"
        }})
    );
}

#[test]
fn store_field_changes_one_field_only() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store("job-123", &job_123()).unwrap();
    let prefs = UserPreferences {
        language: "de".into(),
        format: "vtt".into(),
    };
    jobs.store_field(
        "job-123",
        TranscriptionJob::USER_PREFERENCES,
        &Some(prefs.clone()),
    )
    .unwrap();
    let mut expected = job_123_json();
    expected["user_preferences"] = json!({"language": "de", "format": "vtt"});
    assert_eq!(session["job_job-123"], expected);
    // byte for byte: the other fields serialize exactly as before
    let stored = serde_json::to_string(&session["job_job-123"]["file_info"]).unwrap();
    assert_eq!(
        stored,
        serde_json::to_string(&job_123_json()["file_info"]).unwrap()
    );
}

#[test]
fn store_field_on_a_missing_job_is_an_error_and_writes_nothing() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    let err = jobs
        .store_field("job-1", TranscriptionJob::USER_PREFERENCES, &None)
        .unwrap_err();
    assert_eq!(err.to_string(), "job_job-1: no such job");
    assert!(session.is_empty());
}

#[test]
fn load_field_of_an_absent_optional_field_is_none() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store("j", &short("a", "b")).unwrap();
    assert_eq!(
        jobs.load_field("j", TranscriptionJob::USER_PREFERENCES)
            .unwrap(),
        Some(None)
    );
    assert_eq!(
        jobs.load_field("missing", TranscriptionJob::PLUGIN_INFO)
            .unwrap(),
        None
    );
}
