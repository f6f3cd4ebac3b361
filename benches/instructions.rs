//! The tower-sessions operations of `benches/jobsess.rs`, each side run a
//! given number of times, to count instructions with callgrind, which
//! repeat exactly where wall-clock times on a shared machine don't:
//!
//! ```sh
//! cargo bench --bench instructions --no-run
//! for n in 2000 4000; do
//!   valgrind --tool=callgrind --callgrind-out-file=cg.$n \
//!     target/release/deps/instructions-* tower_store_field jobsess $n
//! done
//! ```
//!
//! The difference of the two totals over 2,000 is one call's instructions,
//! the set-up taken out. Operations: `tower_store_get`, `tower_get`,
//! `tower_store_field`; sides: `floor` (written by hand on the same
//! `Session`, as in `benches/jobsess.rs`) and `jobsess`.

use std::hint::black_box;
use std::sync::Arc;

use jobsess::{AsyncJobSession, JobMetadata};
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, Session};

#[derive(Serialize, Deserialize, Clone)]
struct FileInfo {
    name: String,
    path: String,
    size: u64,
}

#[derive(Serialize, Deserialize, Clone)]
struct PluginInfo {
    id: String,
    title: String,
    version: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct UserPreferences {
    language: String,
    format: String,
}

#[derive(Serialize, Deserialize, JobMetadata, Clone)]
struct TranscriptionJob {
    file_info: FileInfo,
    plugin_info: PluginInfo,
    user_preferences: UserPreferences,
}

fn job_123() -> TranscriptionJob {
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

const ID: &str = "job-123";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` runs every bench target with `--bench`: nothing to do
    let [op, side, calls] = args.as_slice() else {
        eprintln!("usage: instructions OPERATION floor|jobsess CALLS (see the file's header)");
        return;
    };
    let calls: u32 = calls.parse().expect("CALLS is a number");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let job = job_123();
    let prefs = job.user_preferences.clone();
    let session = Session::new(None, Arc::new(MemoryStore::default()), None);
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(session.clone());
    rt.block_on(async {
        // the job there already, as in the criterion groups after their first call
        jobs.store(ID, &job).await.expect("stores");
        for _ in 0..calls {
            match (op.as_str(), side.as_str()) {
                ("tower_store_get", "floor") => {
                    let id = black_box(ID);
                    session
                        .insert(&format!("job_{id}"), &job)
                        .await
                        .expect("inserts");
                    let mut ids: Vec<String> = session
                        .get("__index.job")
                        .await
                        .expect("gets")
                        .unwrap_or_default();
                    if !ids.iter().any(|listed| listed == id) {
                        ids.push(id.to_owned());
                        session.insert("__index.job", &ids).await.expect("inserts");
                    }
                    let back: Option<TranscriptionJob> =
                        session.get(&format!("job_{id}")).await.expect("gets");
                    black_box(back);
                }
                ("tower_store_get", "jobsess") => {
                    jobs.store(black_box(ID), &job).await.expect("stores");
                    black_box(jobs.load(black_box(ID)).await.expect("loads"));
                }
                ("tower_get", "floor") => {
                    let key = format!("job_{}", black_box(ID));
                    let back: Option<TranscriptionJob> = session.get(&key).await.expect("gets");
                    black_box(back);
                }
                ("tower_get", "jobsess") => {
                    black_box(jobs.load(black_box(ID)).await.expect("loads"));
                }
                ("tower_store_field", "floor") => {
                    let key = format!("job_{}", black_box(ID));
                    let mut stored = session
                        .get_value(&key)
                        .await
                        .expect("gets")
                        .expect("present");
                    let value = serde_json::to_value(&prefs).expect("encodes");
                    stored
                        .as_object_mut()
                        .expect("an object")
                        .insert("user_preferences".to_owned(), value);
                    black_box(session.insert_value(&key, stored).await.expect("inserts"));
                }
                ("tower_store_field", "jobsess") => {
                    jobs.store_field(black_box(ID), TranscriptionJob::USER_PREFERENCES, &prefs)
                        .await
                        .expect("stores");
                }
                _ => panic!("no operation {op} with side {side}"),
            }
        }
    });
}
