//! The demo transcription app of `examples/axum_app.rs` and
//! `examples/actix_app.rs`: the notebook's "real-world usage pattern" as a
//! web app. Both frameworks share the metadata type, the simulated
//! transcriber and the pages; only the routes differ.

pub mod actix_app;
pub mod axum_app;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jobsess::JobMetadata;
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

/// The file a job transcribes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FileInfo {
    /// The file's name.
    pub name: String,
}

/// The plugin that runs a job.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PluginInfo {
    /// The plugin's id.
    pub id: String,
    /// Its display title.
    pub title: String,
}

/// The options the user picked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct UserPreferences {
    /// Spoken language.
    pub language: String,
    /// Output format (`srt`, `vtt`, `txt`).
    pub format: String,
}

/// What the session keeps about a transcription job.
#[derive(Serialize, Deserialize, JobMetadata, Clone, Debug, PartialEq)]
#[job_metadata(prefix = "transcription")]
pub struct TranscriptionJob {
    /// Which file.
    pub file_info: FileInfo,
    /// Which plugin.
    pub plugin_info: PluginInfo,
    /// Which options.
    pub user_preferences: UserPreferences,
    /// The last progress a page showed, in percent.
    #[serde(default)]
    pub progress: u8,
}

/// The start form.
#[derive(Deserialize, Debug)]
pub struct StartForm {
    /// File name.
    pub file_name: String,
    /// Plugin id, one of [`PLUGINS`].
    pub plugin: String,
    /// Language.
    pub language: String,
    /// Output format.
    pub format: String,
}

/// The plugins on offer: id and title.
pub const PLUGINS: &[(&str, &str)] = &[
    ("whisper_large", "Whisper Large"),
    ("faster_whisper", "Faster Whisper"),
    ("voxtral", "Voxtral"),
];

impl StartForm {
    /// The metadata of a job started with this form, or why the form is bad.
    ///
    /// # Errors
    /// A message for the user when a field is empty or the plugin unknown.
    pub fn into_job(self) -> Result<TranscriptionJob, &'static str> {
        let Some((id, title)) = PLUGINS.iter().find(|(id, _)| *id == self.plugin) else {
            return Err("unknown plugin");
        };
        if self.file_name.trim().is_empty() {
            return Err("the file name is empty");
        }
        Ok(TranscriptionJob {
            file_info: FileInfo {
                name: self.file_name,
            },
            plugin_info: PluginInfo {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
            },
            user_preferences: UserPreferences {
                language: self.language,
                format: self.format,
            },
            progress: 0,
        })
    }
}

/// The stand-in transcriber: a background task per job that advances its
/// progress. It lives in the app, not in the session, as a real job manager
/// would; pages copy the progress they show into the session metadata.
#[derive(Clone, Default)]
pub struct Runner {
    progress: Arc<Mutex<HashMap<String, u8>>>,
    step: Duration,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Runner {
    /// A runner whose jobs advance 10 % every `step`.
    #[must_use]
    pub fn new(step: Duration) -> Self {
        Runner {
            progress: Arc::default(),
            step,
        }
    }

    /// Starts a job in the background (on the current tokio runtime) and
    /// returns its new id.
    #[must_use]
    pub fn start(&self) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let id = format!("job-{}-{nanos:x}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        self.set(&id, 0);
        let (runner, job) = (self.clone(), id.clone());
        tokio::spawn(async move {
            for percent in (10..=100).step_by(10) {
                tokio::time::sleep(runner.step).await;
                runner.set(&job, percent);
            }
        });
        id
    }

    /// How long each 10 % of a job takes.
    #[must_use]
    pub fn step(&self) -> Duration {
        self.step
    }

    /// The progress of a job this runner started, in percent.
    #[must_use]
    pub fn progress(&self, id: &str) -> Option<u8> {
        self.progress.lock().ok()?.get(id).copied()
    }

    fn set(&self, id: &str, percent: u8) {
        if let Ok(mut map) = self.progress.lock() {
            map.insert(id.to_owned(), percent);
        }
    }
}

/// The progress to show: the runner's if it runs here, else the last one
/// stored in the session (the job may run on another instance).
#[must_use]
pub fn current_progress(runner: &Runner, id: &str, meta: &TranscriptionJob) -> u8 {
    runner
        .progress(id)
        .unwrap_or(meta.progress)
        .max(meta.progress)
}

/// Whether a page showing `progress` should copy it into the session.
///
/// Only the end of a job is recorded. Cookie and tower-sessions sessions are
/// saved whole at the end of each request, so a monitor page that wrote on
/// every poll could overwrite what a concurrent request (a job started in
/// another tab) wrote in between; recording once keeps that window to one
/// request per job.
#[must_use]
pub fn should_record(progress: u8, meta: &TranscriptionJob) -> bool {
    progress >= 100 && meta.progress < 100
}

/// The JSON the monitor page polls.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Status {
    /// The job id.
    pub id: String,
    /// Progress in percent.
    pub progress: u8,
    /// Whether the job is done.
    pub done: bool,
    /// The file name.
    pub file: String,
    /// The plugin title.
    pub plugin: String,
}

impl Status {
    /// The status of job `id`.
    #[must_use]
    pub fn of(id: &str, meta: &TranscriptionJob, progress: u8) -> Self {
        Status {
            id: id.to_owned(),
            progress,
            done: progress >= 100,
            file: meta.file_info.name.clone(),
            plugin: meta.plugin_info.title.clone(),
        }
    }
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · jobsess demo" }
                style { "body{font-family:sans-serif;max-width:42rem;margin:2rem auto}table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd}progress{width:100%}" }
            }
            body {
                nav { a href="/" { "Your jobs" } }
                h1 { (title) }
                (body)
            }
        }
    }
}

/// The home page: the start form and the user's jobs.
#[must_use]
pub fn home_page(jobs: &[(String, Result<TranscriptionJob, jobsess::Error>)]) -> Markup {
    page(
        "Transcriptions",
        html! {
            form method="post" action="/jobs" {
                p { label { "File " input name="file_name" required value="interview.mp3"; } }
                p { label { "Plugin " select name="plugin" {
                    @for (id, title) in PLUGINS { option value=(id) { (title) } }
                } } }
                p { label { "Language " input name="language" value="en"; } }
                p { label { "Format " select name="format" {
                    option { "srt" } option { "vtt" } option { "txt" }
                } } }
                button type="submit" { "Start transcription" }
            }
            h2 { "Your jobs" }
            @if jobs.is_empty() {
                p.empty { "No jobs yet." }
            } @else {
                table {
                    tr { th { "Job" } th { "File" } th { "Plugin" } th {} }
                    @for (id, job) in jobs {
                        tr.job {
                            td { a href={ "/jobs/" (id) } { (id) } }
                            @match job {
                                Ok(job) => {
                                    td { (job.file_info.name) }
                                    td { (job.plugin_info.title) }
                                }
                                Err(_) => { td colspan="2" { "unreadable metadata" } }
                            }
                            td { form method="post" action={ "/jobs/" (id) "/delete" } {
                                button type="submit" { "Delete" }
                            } }
                        }
                    }
                }
                form method="post" action="/jobs/clear" { button type="submit" { "Clear all" } }
            }
        },
    )
}

/// The monitor page, which reloads itself until the job is done.
#[must_use]
pub fn monitor_page(status: &Status) -> Markup {
    page(
        &format!("Job {}", status.id),
        html! {
            @if !status.done { meta http-equiv="refresh" content="1"; }
            p { "Transcribing " strong { (status.file) } " with " (status.plugin) }
            progress max="100" value=(status.progress) { (status.progress) "%" }
            p.progress { (status.progress) "%" }
            @if status.done {
                p { a href={ "/jobs/" (status.id) "/results" } { "See the results" } }
            }
        },
    )
}

/// The results page.
#[must_use]
pub fn results_page(id: &str, job: &TranscriptionJob, done: bool) -> Markup {
    page(
        &format!("Results of {id}"),
        html! {
            dl {
                dt { "File" } dd.file { (job.file_info.name) }
                dt { "Processed by" } dd.plugin { (job.plugin_info.title) }
                dt { "Language" } dd { (job.user_preferences.language) }
                dt { "Format" } dd { (job.user_preferences.format) }
            }
            @if done {
                p.done { "Transcript ready (" (job.user_preferences.format) ")." }
            } @else {
                p.pending { "Still running: " a href={ "/jobs/" (id) } { "monitor it" } }
            }
        },
    )
}

/// The page for a job this session doesn't have.
#[must_use]
pub fn not_found_page(id: &str) -> Markup {
    page("Not found", html! { p { "Job " (id) " not found." } })
}
