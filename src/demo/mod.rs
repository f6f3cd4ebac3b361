//! The demo transcription app of `examples/axum_app.rs` and
//! `examples/actix_app.rs`: the notebook's "real-world usage pattern" as a
//! web app. Both frameworks share the metadata type, the simulated
//! transcriber and the pages; only the routes differ.

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

/// The start form. A field left out of the request is empty, so it is
/// refused with a message on the form, like a field left blank.
#[derive(Deserialize, Debug, Default)]
#[serde(default)]
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

/// The languages on offer.
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it"];

/// The output formats on offer.
pub const FORMATS: &[&str] = &["srt", "vtt", "txt"];

impl StartForm {
    /// The metadata of a job started with this form, or why the form is bad.
    ///
    /// # Errors
    /// A message for the user: a file name that is blank or over 255
    /// characters, or a plugin, language or format that is not on offer.
    pub fn into_job(self) -> Result<TranscriptionJob, &'static str> {
        let name = self.file_name.trim();
        if name.is_empty() {
            return Err("Give the file's name.");
        }
        if name.chars().count() > 255 {
            return Err("The file name is longer than 255 characters.");
        }
        let Some((id, title)) = PLUGINS.iter().find(|(id, _)| *id == self.plugin) else {
            return Err("Choose one of the plugins on offer.");
        };
        if !LANGUAGES.contains(&self.language.as_str()) {
            return Err("Choose one of the languages on offer.");
        }
        if !FORMATS.contains(&self.format.as_str()) {
            return Err("Choose one of the formats on offer.");
        }
        let file_name = name.to_owned();
        Ok(TranscriptionJob {
            file_info: FileInfo { name: file_name },
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
        let id = Runner::new_id();
        self.run(&id);
        id
    }

    /// A new job id.
    #[must_use]
    pub fn new_id() -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("job-{}-{nanos:x}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }

    /// Runs job `id` in the background (on the current tokio runtime). Call
    /// it once the job's metadata is stored, so no job runs unrecorded.
    pub fn run(&self, id: &str) {
        let id = id.to_owned();
        self.set(&id, 0);
        let (runner, job) = (self.clone(), id.clone());
        tokio::spawn(async move {
            for percent in (10..=100).step_by(10) {
                tokio::time::sleep(runner.step).await;
                runner.set(&job, percent);
            }
        });
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
                style { "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}nav{margin-bottom:1rem}nav a{color:#555;text-decoration:none}h1{font-size:1.6rem;overflow-wrap:anywhere}form p{margin:.5rem 0}label{display:block}input,select{font:inherit;padding:.3rem;min-width:14rem;max-width:100%}button{font:inherit;padding:.35rem .9rem;border:1px solid #888;border-radius:4px;background:#f4f4f4;cursor:pointer}table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left;overflow-wrap:anywhere}progress{width:100%;height:1.2rem}.problem{color:#a00;background:#fee;padding:.5rem .8rem;border-radius:4px}dd{overflow-wrap:anywhere}" }
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
    home_page_with(jobs, None)
}

/// The home page with a message about the form (why a start was refused).
#[must_use]
pub fn home_page_with(
    jobs: &[(String, Result<TranscriptionJob, jobsess::Error>)],
    problem: Option<&str>,
) -> Markup {
    page(
        "Transcriptions",
        html! {
            form method="post" action="/jobs" {
                @if let Some(problem) = problem { p.problem role="alert" { (problem) } }
                p { label { "File " input name="file_name" required maxlength="255" value="interview.mp3"; } }
                p { label { "Plugin " select name="plugin" {
                    @for (id, title) in PLUGINS { option value=(id) { (title) } }
                } } }
                p { label { "Language " select name="language" {
                    @for language in LANGUAGES { option { (language) } }
                } } }
                p { label { "Format " select name="format" {
                    @for format in FORMATS { option { (format) } }
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
                form method="post" action="/jobs/clear" onsubmit="return confirm('Delete all your jobs?')" {
                    button type="submit" { "Clear all" }
                }
            }
        },
    )
}

/// The script of a live monitor page: the progress bar follows the job's
/// server-sent events (`{page}/events`, one number per change) without a
/// reload; at 100 % (or if the stream fails or ends) the page reloads.
const LIVE_PROGRESS: &str = r"
const bar = document.querySelector('progress');
const label = document.querySelector('p.progress');
const events = new EventSource(location.pathname + '/events');
events.onmessage = (event) => {
  const percent = JSON.parse(event.data);
  bar.value = percent;
  bar.textContent = label.textContent = percent + '%';
  if (percent >= 100) { events.close(); location.reload(); }
};
events.onerror = () => { events.close(); setTimeout(() => location.reload(), 1000); };
";

/// The monitor page until the job is done. `live`: its progress bar
/// follows the job's event stream (scripts off: it reloads itself every
/// second, as the page without `live` does).
#[must_use]
pub fn monitor_page(status: &Status, live: bool) -> Markup {
    page(
        &format!("Job {}", status.id),
        html! {
            @if !status.done {
                @if live {
                    noscript { meta http-equiv="refresh" content="1"; }
                } @else {
                    meta http-equiv="refresh" content="1";
                }
            }
            @if status.done {
                p.state { "Done: " strong { (status.file) } " with " (status.plugin) }
            } @else {
                p.state { "Transcribing " strong { (status.file) } " with " (status.plugin) }
            }
            progress max="100" value=(status.progress) { (status.progress) "%" }
            p.progress { (status.progress) "%" }
            @if status.done {
                p { a href={ "/jobs/" (status.id) "/results" } { "See the results" } }
            } @else if live {
                script { (maud::PreEscaped(LIVE_PROGRESS)) }
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
    error_page(404, &format!("Job {id} not found."))
}

/// An error page: the status, what happened, and a way back.
#[must_use]
pub fn error_page(status: u16, message: &str) -> Markup {
    let title = match status {
        400 => "Bad request",
        404 => "Not found",
        413 => "Too much in this session",
        422 => "Check the form",
        503 => "Try again in a moment",
        _ => "Something went wrong",
    };
    page(
        &format!("{status} · {title}"),
        html! {
            p.problem role="alert" { (message) }
            p { a href="/" { "Back to your jobs" } }
        },
    )
}

/// The status and the message for the user that answer `err`: never key
/// names or internals.
#[must_use]
pub fn user_error(err: &jobsess::Error) -> (u16, String) {
    let message = match err {
        jobsess::Error::OverBudget { .. } => {
            "Too many jobs in this session: delete some.".to_owned()
        }
        jobsess::Error::InvalidJobId { .. } => "That is not a job id.".to_owned(),
        jobsess::Error::JobNotFound { .. } => "No such job in your session.".to_owned(),
        _ if err.http_status() == 503 => {
            "The job store is not answering; try again in a moment.".to_owned()
        }
        _ => "Something went wrong on our side.".to_owned(),
    };
    (err.http_status(), message)
}
