//! The `JobSessionManager` notebook, step by step, on an embedded HashMap
//! session. Each step prints what the notebook printed, then the session as
//! JSON, so the two can be laid side by side.
//!
//! Run it with `cargo run --example workflow`.

use std::collections::{BTreeMap, HashMap};

use jobsess::{JobMetadata, JobSession, UntypedJob};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
struct FileInfo {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
struct PluginInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct UserPreferences {
    language: String,
    format: String,
}

/// The metadata of a transcription job, as the notebook stores it.
#[derive(Serialize, Deserialize, JobMetadata, Debug, Clone)]
struct TranscriptionJob {
    file_info: FileInfo,
    plugin_info: PluginInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_preferences: Option<UserPreferences>,
}

/// The metadata of the route simulation, which also records a start time.
#[derive(Serialize, Deserialize, JobMetadata, Debug, Clone)]
struct StartedJob {
    file_info: FileInfo,
    plugin_info: PluginInfo,
    started_at: String,
}

/// A session: the notebook's `mock_session = {}`.
type Session = HashMap<String, Value>;

/// Prints the session as JSON, its keys sorted as the notebook shows them.
fn show(title: &str, session: &Session) {
    if !title.is_empty() {
        println!("{title}");
    }
    let sorted: BTreeMap<&String, &Value> = session.iter().collect();
    println!(
        "{}\n",
        serde_json::to_string_pretty(&sorted).unwrap_or_default()
    );
}

fn brief(file: &str, plugin: &str) -> TranscriptionJob {
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

fn main() -> Result<(), jobsess::Error> {
    // In [ ]: mock_session = {}; job_sess = JobSessionManager(mock_session)
    let mut mock_session = Session::new();

    // In [ ]: job_sess.store_job_metadata("job-123", {...}); mock_session
    println!("== 1. Store metadata for a transcription job ==");
    JobSession::<TranscriptionJob, _>::new(&mut mock_session).store(
        "job-123",
        &TranscriptionJob {
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
        },
    )?;
    show("Session:", &mock_session);

    // In [ ]: metadata = job_sess.get_job_metadata("job-123"); print(...)
    println!("== 2. Retrieve job metadata ==");
    let jobs = JobSession::<TranscriptionJob, _>::new(&mut mock_session);
    if let Some(metadata) = jobs.load("job-123")? {
        println!("File: {}", metadata.file_info.name);
        println!("Plugin: {}", metadata.plugin_info.title);
        if let Some(prefs) = &metadata.user_preferences {
            println!("Language: {}", prefs.language);
        }
    }
    println!();

    // In [ ]: store job-456 and job-789; mock_session
    println!("== 3. Store metadata for multiple jobs ==");
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut mock_session);
    jobs.store("job-456", &brief("podcast.mp3", "Faster Whisper"))?;
    jobs.store("job-789", &brief("lecture.mp4", "Voxtral"))?;
    show("Session now contains multiple jobs:", &mock_session);

    // In [ ]: job_sess.get_job_metadata("job-999", default={"error": "Not found"})
    println!("== 4. Metadata for a non-existent job, with a default ==");
    let untyped = JobSession::<UntypedJob, _>::new(&mut mock_session);
    let fallback = json!({"error": "Not found"});
    let missing = untyped.load_or("job-999", fallback.as_object().cloned().unwrap_or_default())?;
    println!(
        "{}\n",
        serde_json::to_string_pretty(&missing).unwrap_or_default()
    );

    // In [ ]: job_sess.delete_job_metadata("job-456")
    println!("== 5. Delete specific job metadata ==");
    JobSession::<TranscriptionJob, _>::new(&mut mock_session).delete("job-456")?;
    show("After deleting job-456:", &mock_session);

    // In [ ]: job_sess.clear_all_jobs()
    println!("== 6. Clear all job metadata ==");
    JobSession::<TranscriptionJob, _>::new(&mut mock_session).clear()?;
    show("After clearing all jobs:", &mock_session);

    // In [ ]: processing_sess = JobSessionManager({}, prefix="processing") ...
    println!("== 7. Custom prefix ==");
    let mut processing_session = Session::new();
    let mut processing =
        JobSession::<UntypedJob, _>::with_prefix(&mut processing_session, "processing")?;
    let status = json!({"status": "running"});
    processing.store("task-001", status.as_object().unwrap_or(&UntypedJob::new()))?;
    show("Session:", &processing_session);

    // In [ ]: the real-world usage pattern across three routes
    println!("== 8. Real-world usage pattern ==");
    let mut session = Session::new();
    println!("=== Simulated Workflow ===");
    start_job_route(&mut session, "job-abc", "meeting.mp3", "Whisper")?;
    monitor_job_route(&mut session, "job-abc")?;
    show_results_route(&mut session, "job-abc")?;
    show("\nSession state:", &session);
    Ok(())
}

/// Step 1: the user starts a job.
fn start_job_route(
    session: &mut Session,
    job_id: &str,
    file_name: &str,
    plugin_title: &str,
) -> Result<(), jobsess::Error> {
    JobSession::<StartedJob, _>::new(session).store(
        job_id,
        &StartedJob {
            file_info: FileInfo {
                name: file_name.into(),
                ..FileInfo::default()
            },
            plugin_info: PluginInfo {
                title: plugin_title.into(),
                ..PluginInfo::default()
            },
            started_at: "2025-01-01T00:00:00".into(),
        },
    )?;
    println!("Job {job_id} started with {file_name}");
    Ok(())
}

/// Step 2: a later request monitors the job, reading only two fields.
fn monitor_job_route(session: &mut Session, job_id: &str) -> Result<(), jobsess::Error> {
    let jobs = JobSession::<StartedJob, _>::new(session);
    let file = jobs.load_field(job_id, StartedJob::FILE_INFO)?;
    let plugin = jobs.load_field(job_id, StartedJob::PLUGIN_INFO)?;
    match (file, plugin) {
        (Some(file), Some(plugin)) => {
            println!(
                "Monitoring job {job_id}: {} using {}",
                file.name, plugin.title
            );
        }
        _ => println!("Job {job_id} not found"),
    }
    Ok(())
}

/// Step 3: the results page.
fn show_results_route(session: &mut Session, job_id: &str) -> Result<(), jobsess::Error> {
    if let Some(metadata) = JobSession::<StartedJob, _>::new(session).load(job_id)? {
        println!("Results for {}", metadata.file_info.name);
        println!("Processed by: {}", metadata.plugin_info.title);
        println!("Started: {}", metadata.started_at);
    }
    Ok(())
}
