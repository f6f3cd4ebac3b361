//! Versioned metadata: older jobs migrate on read, newer jobs (a rolling
//! deploy) are refused by name and never lose the fields this release
//! doesn't know; on a map, and on a real Redis shared by two releases.

use std::collections::HashMap;
use std::time::Duration;

use fred::prelude::*;
use jobsess::redis::RedisJobStore;
use jobsess::{AsyncJobSession, Error, JobMetadata, JobSession, VERSION_KEY};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The first release's type: the notebook's layout, no version member.
#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "transcription", version = 1)]
struct JobV1 {
    file_name: String,
    language: String,
    #[serde(default)]
    progress: u8,
}

/// The second: `language` became a list, and a field was added.
#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "transcription", version = 2, migrate_from = JobV1)]
struct JobV2 {
    file_name: String,
    languages: Vec<String>,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    speakers: u8,
}

impl From<JobV1> for JobV2 {
    fn from(v1: JobV1) -> Self {
        JobV2 {
            file_name: v1.file_name,
            languages: vec![v1.language],
            progress: v1.progress,
            speakers: 1,
        }
    }
}

/// The third: the file name split in two; a migration that can fail.
#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "transcription", version = 3, migrate_from = JobV2)]
struct JobV3 {
    stem: String,
    extension: String,
    languages: Vec<String>,
    #[serde(default)]
    progress: u8,
    #[serde(default)]
    speakers: u8,
}

impl TryFrom<JobV2> for JobV3 {
    type Error = String;

    fn try_from(v2: JobV2) -> Result<Self, String> {
        let (stem, extension) = v2
            .file_name
            .rsplit_once('.')
            .ok_or_else(|| format!("file name {:?} has no extension", v2.file_name))?;
        Ok(JobV3 {
            stem: stem.into(),
            extension: extension.into(),
            languages: v2.languages,
            progress: v2.progress,
            speakers: v2.speakers,
        })
    }
}

fn v1(file: &str) -> JobV1 {
    JobV1 {
        file_name: file.into(),
        language: "en".into(),
        progress: 10,
    }
}

fn v2(file: &str) -> JobV2 {
    JobV2 {
        file_name: file.into(),
        languages: vec!["de".into(), "fr".into()],
        progress: 20,
        speakers: 3,
    }
}

/// On actix-session, which keeps jobs as text, `load_field` of a versioned
/// type reads the version member with the field: a current job's field, an
/// older job's migrated field, a newer job refused by name.
#[test]
fn field_reads_on_actix_sessions_follow_the_version() {
    use actix_session::SessionExt;
    let req = actix_web::test::TestRequest::default().to_http_request();
    let session = req.get_session();
    JobSession::<JobV1, _>::new(session.clone())
        .store("old", &v1("a.mp3"))
        .unwrap();
    let mut jobs = JobSession::<JobV2, _>::new(session.clone());
    jobs.store("new", &v2("b.mp3")).unwrap();
    assert_eq!(jobs.load_field("new", JobV2::SPEAKERS).unwrap(), Some(3));
    assert_eq!(
        jobs.load_field("old", JobV2::LANGUAGES).unwrap(),
        Some(vec!["en".to_owned()])
    );
    assert_eq!(jobs.load_field("old", JobV2::SPEAKERS).unwrap(), Some(1));
    let err = JobSession::<JobV1, _>::new(session.clone())
        .load_field("new", JobV1::PROGRESS)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NewerVersion {
                found: 2,
                known: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn version_1_keeps_the_unversioned_layout() {
    let mut session = HashMap::new();
    JobSession::<JobV1, _>::new(&mut session)
        .store("a", &v1("a.mp3"))
        .unwrap();
    assert_eq!(
        session["transcription_a"],
        json!({ "file_name": "a.mp3", "language": "en", "progress": 10 })
    );
    assert_eq!(JobV1::schema().version, Some(1));
    assert_eq!(JobV3::schema().version, Some(3));
    let mut session = HashMap::new();
    JobSession::<JobV2, _>::new(&mut session)
        .store("a", &v2("a.mp3"))
        .unwrap();
    assert_eq!(session["transcription_a"][VERSION_KEY], json!(2));
}

#[test]
fn older_jobs_migrate_through_the_chain() {
    let mut session = HashMap::new();
    JobSession::<JobV1, _>::new(&mut session)
        .store("one", &v1("talk.mp3"))
        .unwrap();
    JobSession::<JobV2, _>::new(&mut session)
        .store("two", &v2("song.flac"))
        .unwrap();
    let written = session.clone();

    let jobs = JobSession::<JobV3, _>::new(&mut session);
    let one = jobs.load("one").unwrap().unwrap();
    assert_eq!(
        one,
        JobV3 {
            stem: "talk".into(),
            extension: "mp3".into(),
            languages: vec!["en".into()],
            progress: 10,
            speakers: 1,
        }
    );
    assert_eq!(jobs.load("two").unwrap().unwrap().extension, "flac");
    // a field of an older job is the migrated field
    assert_eq!(
        jobs.load_field("one", JobV3::LANGUAGES).unwrap(),
        Some(vec!["en".to_owned()])
    );
    assert_eq!(
        jobs.load_field("two", JobV3::STEM).unwrap().as_deref(),
        Some("song")
    );
    // reading doesn't write the migration back
    assert_eq!(session, written);

    // writing one field of an older job writes it whole, migrated
    let mut jobs = JobSession::<JobV3, _>::new(&mut session);
    jobs.store_field("one", JobV3::PROGRESS, &50).unwrap();
    assert_eq!(
        session["transcription_one"],
        json!({
            "stem": "talk", "extension": "mp3", "languages": ["en"],
            "progress": 50, "speakers": 1, VERSION_KEY: 3
        })
    );
    let mut jobs = JobSession::<JobV3, _>::new(&mut session);
    assert_eq!(
        jobs.update_field("two", JobV3::SPEAKERS, |n| *n += 1)
            .unwrap(),
        4
    );
    assert_eq!(
        jobs.update("two", |job| job.progress = 99)
            .unwrap()
            .progress,
        99
    );
    assert_eq!(session["transcription_two"][VERSION_KEY], json!(3));
}

#[test]
fn a_failed_migration_names_the_key_and_both_versions() {
    let mut session = HashMap::new();
    JobSession::<JobV1, _>::new(&mut session)
        .store("noext", &v1("recording"))
        .unwrap();
    let jobs = JobSession::<JobV3, _>::new(&mut session);
    let err = jobs.load("noext").unwrap_err();
    assert!(
        matches!(err, Error::Migration { ref key, from: 1, to: 3, .. } if key == "transcription_noext"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "transcription_noext: migrating JobV3 from version 1 to version 3 failed: \
         file name \"recording\" has no extension"
    );
    assert!(jobs.load_field("noext", JobV3::STEM).is_err());
    assert_eq!(err.http_status(), 500);

    // a version with no type in the chain, and a version member that isn't one
    session.insert(
        "transcription_odd".into(),
        json!({ "file_name": "a", VERSION_KEY: "two" }),
    );
    let jobs = JobSession::<JobV3, _>::new(&mut session);
    let err = jobs.load("odd").unwrap_err().to_string();
    assert!(
        err.contains("jobsess:version") && err.contains("\"two\""),
        "{err}"
    );
}

#[test]
fn newer_jobs_are_refused_by_name_and_keep_their_fields() {
    let mut session = HashMap::new();
    JobSession::<JobV2, _>::new(&mut session)
        .store("new", &v2("a.mp3"))
        .unwrap();
    let mut old = JobSession::<JobV1, _>::new(&mut session);

    let err = old.load("new").unwrap_err();
    assert!(
        matches!(err, Error::NewerVersion { ref key, found: 2, known: 1 } if key == "transcription_new"),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 503);
    let err = old.load_field("new", JobV1::FILE_NAME).unwrap_err();
    assert!(matches!(err, Error::NewerVersion { .. }), "{err:?}");
    let err = old.store("new", &v1("b.mp3")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NewerVersion {
                found: 2,
                known: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let err = old.update("new", |job| job.progress += 1).unwrap_err();
    assert!(matches!(err, Error::NewerVersion { .. }), "{err:?}");

    // field writes keep what this release doesn't know
    old.store_field("new", JobV1::PROGRESS, &70).unwrap();
    assert_eq!(
        old.update_field("new", JobV1::PROGRESS, |p| *p += 5)
            .unwrap(),
        75
    );
    let new = JobSession::<JobV2, _>::new(&mut session)
        .load("new")
        .unwrap()
        .unwrap();
    assert_eq!(
        new,
        JobV2 {
            progress: 75,
            ..v2("a.mp3")
        }
    );
    assert_eq!(session["transcription_new"][VERSION_KEY], json!(2));

    // forced: replaced, at the old version
    let mut old = JobSession::<JobV1, _>::new(&mut session);
    old.store_forced("new", &v1("b.mp3")).unwrap();
    assert_eq!(old.load("new").unwrap().unwrap(), v1("b.mp3"));
}

#[tokio::test]
async fn the_async_handle_versions_jobs_too() {
    let session = std::sync::Arc::new(std::sync::Mutex::new(HashMap::new()));
    let old = AsyncJobSession::<JobV1, _>::new(session.clone());
    old.store("a", &v1("a.wav")).await.unwrap();
    let new = AsyncJobSession::<JobV2, _>::new(session);
    assert_eq!(new.load("a").await.unwrap().unwrap().speakers, 1);
    new.store("b", &v2("b.wav")).await.unwrap();
    let err = old.store("b", &v1("x")).await.unwrap_err();
    assert!(matches!(err, Error::NewerVersion { .. }), "{err:?}");
}

// ---- a rolling deploy on a real Redis -----------------------------------------

async fn release_store() -> RedisJobStore {
    let url = crate::common::redis_url();
    let pool = Pool::new(Config::from_url(&url).unwrap(), None, None, None, 2).unwrap();
    pool.init().await.unwrap();
    RedisJobStore::new(pool)
        .with_namespace("jobsess-versions-test")
        .with_ttl(Duration::from_secs(600))
}

#[tokio::test]
async fn a_rolling_deploy_on_redis_loses_nothing() {
    require!(crate::common::redis());
    // two releases, each with its own pool, share one store and one owner
    let token = RedisJobStore::new_owner_token().unwrap();
    let old = AsyncJobSession::<JobV1, _>::new(release_store().await.owner(&token).unwrap());
    let new = AsyncJobSession::<JobV2, _>::new(release_store().await.owner(&token).unwrap());

    old.store("by-old", &v1("old.mp3")).await.unwrap();
    new.store("by-new", &v2("new.mp3")).await.unwrap();
    // both list both
    assert_eq!(old.ids().await.unwrap(), ["by-new", "by-old"]);
    assert_eq!(new.ids().await.unwrap(), ["by-new", "by-old"]);

    // the new release reads and patches the old job
    assert_eq!(new.load("by-old").await.unwrap().unwrap().languages, ["en"]);
    assert_eq!(
        new.load_field("by-old", JobV2::SPEAKERS).await.unwrap(),
        Some(1)
    );
    new.store_field("by-old", JobV2::PROGRESS, &30)
        .await
        .unwrap();
    // which is now a version-2 job: the old release refuses to read it...
    let err = old.load("by-old").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "transcription_by-old: stored at version 2 of its metadata, newer than version 1, \
         the newest this release knows; the job is left as it is"
    );

    // ...and to overwrite it, in the store's script, but patches its fields
    let err = old.store("by-new", &v1("over.mp3")).await.unwrap_err();
    assert!(
        matches!(err, Error::NewerVersion { ref key, found: 2, known: 1 } if key == "transcription_by-new"),
        "{err:?}"
    );
    old.store_field("by-new", JobV1::PROGRESS, &90)
        .await
        .unwrap();
    assert_eq!(
        old.update_field("by-new", JobV1::PROGRESS, |p| *p += 1)
            .await
            .unwrap(),
        91
    );
    let err = old
        .update("by-new", |job| job.progress = 0)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NewerVersion { .. }), "{err:?}");
    // nothing the new release wrote was lost
    assert_eq!(
        new.load("by-new").await.unwrap().unwrap(),
        JobV2 {
            progress: 91,
            ..v2("new.mp3")
        }
    );
    assert_eq!(
        new.load("by-old").await.unwrap().unwrap(),
        JobV2 {
            file_name: "old.mp3".into(),
            languages: vec!["en".into()],
            progress: 30,
            speakers: 1,
        }
    );
    // entries: the old release gets each newer job as its own named error
    let entries = old.entries().await.unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|(_, job)| matches!(job, Err(Error::NewerVersion { .. })))
    );
    assert_eq!(old.clear().await.unwrap(), 2);
    assert!(new.ids().await.unwrap().is_empty());
}
