//! The async handle on a real tower-sessions `Session` (memory store): the
//! same semantics as the sync handle, with the id index.

use std::sync::Arc;

use jobsess::{AsyncJobSession, Error, JobMetadata, key};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::{MemoryStore, Session};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "transcription")]
struct Job {
    file: String,
    #[serde(default)]
    progress: u8,
}

fn job(file: &str) -> Job {
    Job {
        file: file.into(),
        progress: 0,
    }
}

fn session() -> Session {
    Session::new(None, Arc::new(MemoryStore::default()), None)
}

#[tokio::test]
async fn the_notebook_flow_on_tower_sessions() {
    let session = session();
    session.insert("user", "ann").await.unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(session.clone());
    jobs.store("job-2", &job("b.mp3")).await.unwrap();
    jobs.store("job-1", &job("a.mp3")).await.unwrap();
    jobs.store("job-1", &job("a2.mp3")).await.unwrap();
    jobs.store_field("job-2", Job::PROGRESS, &50).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["job-1", "job-2"]);
    assert_eq!(jobs.load("job-1").await.unwrap(), Some(job("a2.mp3")));
    assert_eq!(
        jobs.load_field("job-2", Job::PROGRESS).await.unwrap(),
        Some(50)
    );
    assert_eq!(
        session
            .get_value(&key::index_key("transcription"))
            .await
            .unwrap(),
        Some(json!("job-2\njob-1"))
    );
    assert!(jobs.delete("job-2").await.unwrap());
    assert!(!jobs.delete("job-2").await.unwrap());
    assert_eq!(jobs.ids().await.unwrap(), ["job-1"]);
    // ids() pruned the deleted id from the index
    assert_eq!(
        session
            .get_value(&key::index_key("transcription"))
            .await
            .unwrap(),
        Some(json!("job-1"))
    );
    assert_eq!(jobs.clear().await.unwrap(), 1);
    assert_eq!(
        session
            .get_value(&key::index_key("transcription"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        session.get::<String>("user").await.unwrap().as_deref(),
        Some("ann")
    );
}

#[tokio::test]
async fn errors_are_the_same_as_on_the_sync_handle() {
    let session = session();
    session
        .insert_value("transcription_bad", json!({"file": 7}))
        .await
        .unwrap();
    let jobs = AsyncJobSession::<Job, _>::new(session.clone());
    assert_eq!(
        jobs.load("bad").await.unwrap_err().to_string(),
        "transcription_bad as Job: file: invalid type: integer `7`, expected a string"
    );
    assert!(matches!(
        jobs.load("").await,
        Err(Error::InvalidJobId { .. })
    ));
    assert!(matches!(
        jobs.store_field("missing", Job::PROGRESS, &1).await,
        Err(Error::JobNotFound { .. })
    ));
    assert!(AsyncJobSession::<Job, _>::with_prefix(session, "a_b").is_err());
}

#[tokio::test]
async fn two_prefixes_keep_two_indexes() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[job_metadata(prefix = "export")]
    struct Export {
        format: String,
    }
    let session = session();
    AsyncJobSession::<Job, _>::new(session.clone())
        .store("a", &job("a"))
        .await
        .unwrap();
    let exports = AsyncJobSession::<Export, _>::new(session.clone());
    exports
        .store(
            "a",
            &Export {
                format: "pdf".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(exports.clear().await.unwrap(), 1);
    let jobs = AsyncJobSession::<Job, _>::new(session);
    assert_eq!(jobs.ids().await.unwrap(), ["a"]);
}
