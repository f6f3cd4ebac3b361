//! `guide/examples/workflow.rs` reproduces the Python notebook's outputs: this runs
//! the built example and lays its output next to the notebook's, line by
//! line for the prints and value by value for the sessions it shows.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

/// `cargo test` builds the examples next to the test binaries.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let bin = profile_dir
        .join("examples")
        .join(format!("workflow{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test`",
        bin.display()
    );
    bin
}

/// The output: printed lines that are not JSON, and the JSON values in order.
fn run() -> (Vec<String>, Vec<Value>) {
    let output = Command::new(example_binary())
        .output()
        .expect("the example runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let (mut lines, mut values, mut block) = (Vec::new(), Vec::new(), None::<String>);
    for line in stdout.lines() {
        match block.as_mut() {
            Some(text) => {
                text.push_str(line);
                if line == "}" {
                    values.push(serde_json::from_str(text).expect("a JSON block"));
                    block = None;
                }
            }
            None if line == "{}" => values.push(json!({})),
            None if line == "{" => block = Some(line.to_owned()),
            None if !line.is_empty() && !line.starts_with("== ") => lines.push(line.to_owned()),
            None => {}
        }
    }
    (lines, values)
}

#[test]
fn prints_what_the_notebook_printed() {
    let (lines, _) = run();
    assert_eq!(
        lines,
        [
            "Session:",
            // print(f"File: ...") / Plugin / Language
            "File: interview.mp3",
            "Plugin: Whisper Large",
            "Language: en",
            "Session now contains multiple jobs:",
            "After deleting job-456:",
            "After clearing all jobs:",
            "Session:",
            // the simulated workflow
            "=== Simulated Workflow ===",
            "Job job-abc started with meeting.mp3",
            "Monitoring job job-abc: meeting.mp3 using Whisper",
            "Results for meeting.mp3",
            "Processed by: Whisper",
            "Started: 2025-01-01T00:00:00",
            "Session state:",
        ]
    );
}

#[test]
fn shows_the_sessions_the_notebook_showed() {
    let (_, values) = run();
    let job_123 = json!({
        "file_info": {"name": "interview.mp3", "path": "/media/audio/interview.mp3", "size": 1024000},
        "plugin_info": {"id": "whisper_large", "title": "Whisper Large", "version": "3.0"},
        "user_preferences": {"language": "en", "format": "srt"}
    });
    let job_456 =
        json!({"file_info": {"name": "podcast.mp3"}, "plugin_info": {"title": "Faster Whisper"}});
    let job_789 =
        json!({"file_info": {"name": "lecture.mp4"}, "plugin_info": {"title": "Voxtral"}});
    assert_eq!(
        values,
        [
            // mock_session after store_job_metadata("job-123", ...)
            json!({"job_job-123": job_123}),
            // "Session now contains multiple jobs:"
            json!({"job_job-123": job_123, "job_job-456": job_456, "job_job-789": job_789}),
            // get_job_metadata("job-999", default={"error": "Not found"})
            json!({"error": "Not found"}),
            // "After deleting job-456:"
            json!({"job_job-123": job_123, "job_job-789": job_789}),
            // "After clearing all jobs:"
            json!({}),
            // JobSessionManager({}, prefix="processing")
            json!({"processing_task-001": {"status": "running"}}),
            // "Session state:"
            json!({"job_job-abc": {
                "file_info": {"name": "meeting.mp3"},
                "plugin_info": {"title": "Whisper"},
                "started_at": "2025-01-01T00:00:00"
            }}),
        ]
    );
}
