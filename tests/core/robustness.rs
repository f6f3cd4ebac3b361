//! Bad input: corrupt session data, wrong types, hostile ids. Every case is
//! an error that names what was wrong, the rest of the session is untouched,
//! and nothing panics.

use std::collections::{BTreeMap, HashMap};

use jobsess::{Error, JobMetadata, JobSession};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct FileInfo {
    name: String,
    size: u64,
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "transcription")]
struct TranscriptionJob {
    file_info: FileInfo,
    plugin: String,
}

fn good() -> TranscriptionJob {
    TranscriptionJob {
        file_info: FileInfo {
            name: "a.mp3".into(),
            size: 3,
        },
        plugin: "whisper".into(),
    }
}

fn session_with_corrupt_entry() -> HashMap<String, Value> {
    let mut session = HashMap::new();
    session.insert(
        "transcription_job-123".to_owned(),
        json!({"file_info": {"name": "a.mp3", "size": "big"}, "plugin": "whisper"}),
    );
    session.insert(
        "transcription_ok".to_owned(),
        serde_json::to_value(good()).unwrap(),
    );
    session.insert("transcription_null".to_owned(), Value::Null);
    session.insert("user_id".to_owned(), json!(42));
    session
}

#[test]
fn decode_errors_name_key_type_and_path() {
    let mut session = session_with_corrupt_entry();
    let jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    let err = jobs.load("job-123").err().unwrap();
    assert_eq!(
        err.to_string(),
        r#"transcription_job-123 as TranscriptionJob: file_info.size: invalid type: string "big", expected u64"#
    );
    assert_eq!(err.key(), Some("transcription_job-123"));
    let err = jobs
        .load_field("job-123", TranscriptionJob::FILE_INFO)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"transcription_job-123 as FileInfo: file_info.size: invalid type: string "big", expected u64"#
    );
    // the field next to the broken one still loads
    assert_eq!(
        jobs.load_field("job-123", TranscriptionJob::PLUGIN)
            .unwrap()
            .as_deref(),
        Some("whisper")
    );
}

#[test]
fn one_corrupt_entry_does_not_stop_the_others() {
    let mut session = session_with_corrupt_entry();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    assert_eq!(jobs.ids().unwrap(), ["job-123", "null", "ok"]);
    assert_eq!(jobs.load("ok").unwrap(), Some(good()));
    let entries = jobs.entries().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries[0].1.is_err());
    assert!(entries[1].1.is_err());
    assert_eq!(entries[2].1.as_ref().unwrap(), &good());
    assert_eq!(jobs.clear().unwrap(), 3);
    assert_eq!(session.keys().collect::<Vec<_>>(), ["user_id"]);
}

#[test]
fn store_field_on_a_non_object_is_an_error_and_changes_nothing() {
    let mut session = session_with_corrupt_entry();
    let before = session.clone();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    let err = jobs
        .store_field("null", TranscriptionJob::PLUGIN, &"x".to_owned())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "transcription_null as TranscriptionJob: stored value is null, expected a JSON object of job metadata"
    );
    assert_eq!(session, before);
}

#[test]
fn store_field_on_a_corrupt_object_keeps_the_other_fields_as_they_were() {
    let mut session = session_with_corrupt_entry();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    jobs.store_field("job-123", TranscriptionJob::PLUGIN, &"voxtral".to_owned())
        .unwrap();
    assert_eq!(
        session["transcription_job-123"],
        json!({"file_info": {"name": "a.mp3", "size": "big"}, "plugin": "voxtral"})
    );
}

#[test]
fn hostile_ids_are_errors_that_touch_nothing() {
    let mut session = session_with_corrupt_entry();
    let before = session.clone();
    let long = "x".repeat(257);
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    for id in [
        "",
        "a\nb",
        "\u{0}",
        "tab\there",
        "\u{1b}[31m",
        long.as_str(),
    ] {
        for result in [
            jobs.store(id, &good()),
            jobs.load(id).map(|_| ()),
            jobs.load_field(id, TranscriptionJob::PLUGIN).map(|_| ()),
            jobs.store_field(id, TranscriptionJob::PLUGIN, &String::new()),
            jobs.delete(id).map(|_| ()),
            jobs.contains(id).map(|_| ()),
        ] {
            assert!(
                matches!(result, Err(Error::InvalidJobId { .. })),
                "{id:?}: {result:?}"
            );
        }
    }
    assert_eq!(session, before);
}

#[test]
fn ids_with_the_separator_and_unicode_are_fine() {
    let mut session = BTreeMap::new();
    let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    for id in ["a_b", "ü-1", "with space", "../../etc/passwd", "job_job-1"] {
        jobs.store(id, &good()).unwrap();
        assert_eq!(jobs.load(id).unwrap(), Some(good()), "{id}");
    }
    assert_eq!(
        jobs.ids().unwrap(),
        ["../../etc/passwd", "a_b", "job_job-1", "with space", "ü-1"]
    );
}

#[test]
fn every_kind_of_stored_json_is_an_error_not_a_panic() {
    let shapes = [
        json!(null),
        json!(true),
        json!(1.5),
        json!("s"),
        json!([1, 2]),
        json!({}),
        json!({"file_info": null}),
        json!({"file_info": {"name": 1, "size": -1}}),
        json!({"file_info": {"name": "a", "size": 1e300}}),
        json!({"file_info": {"name": "a", "size": 1}, "plugin": {"nested": [[[]]]}}),
    ];
    for shape in shapes {
        let mut session = HashMap::from([("transcription_x".to_owned(), shape.clone())]);
        let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
        let err = jobs.load("x").err().unwrap();
        assert!(
            err.to_string().starts_with("transcription_x"),
            "{shape}: {err}"
        );
        let _ = jobs.load_field("x", TranscriptionJob::FILE_INFO);
        let _ = jobs.load_field("x", TranscriptionJob::PLUGIN);
        let _ = jobs.store_field("x", TranscriptionJob::PLUGIN, &"p".to_owned());
        assert_eq!(jobs.ids().unwrap(), ["x"]);
        assert_eq!(jobs.clear().unwrap(), 1);
    }
}

#[test]
fn values_serde_cannot_encode_are_errors() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    struct Job {
        by_tuple: HashMap<(u8, u8), u8>,
    }
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let job = Job {
        by_tuple: HashMap::from([((1, 2), 3)]),
    };
    let err = jobs.store("a", &job).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("job_a as Job: by_tuple: cannot encode: key must be a string"),
        "{err}"
    );
    let err = jobs
        .store_field("a", Job::BY_TUPLE, &job.by_tuple)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("job_a as HashMap<(u8, u8), u8>: by_tuple: cannot encode"),
        "{err}"
    );
    assert!(session.is_empty());
}

#[test]
fn oversized_values_round_trip() {
    #[derive(Serialize, Deserialize, JobMetadata, PartialEq, Debug)]
    struct Job {
        blob: String,
    }
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let job = Job {
        blob: "x".repeat(4 << 20),
    };
    jobs.store("big", &job).unwrap();
    assert_eq!(jobs.load("big").unwrap(), Some(job));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // serde_json refuses to build over 128 levels from text; a Value can be
    // deeper when built in code, and decoding it must still not crash.
    let mut deep = json!(0);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let mut session = HashMap::from([(
        "transcription_deep".to_owned(),
        json!({"file_info": deep, "plugin": "p"}),
    )]);
    let jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
    assert!(jobs.load("deep").is_err());
}

/// A job stored as a string, null, an array, a number or a boolean (by
/// other code, or corrupted): every typed operation, on both handles, names
/// the key, the Rust type and what was found, and changes nothing.
#[tokio::test]
async fn a_job_that_is_no_object_is_named_with_its_type_by_every_operation() {
    use jobsess::AsyncJobSession;
    let shapes = [
        (json!("text"), "a string"),
        (json!(null), "null"),
        (json!([1, 2]), "an array"),
        (json!(7), "a number"),
        (json!(true), "a boolean"),
    ];
    for (stored, found) in shapes {
        let want = format!(
            "transcription_x as TranscriptionJob: stored value is {found}, expected a JSON object of job metadata"
        );
        let mut session = HashMap::from([("transcription_x".to_owned(), stored.clone())]);
        let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
        let errors = [
            jobs.load("x").map(drop).unwrap_err(),
            jobs.load_field("x", TranscriptionJob::PLUGIN)
                .map(drop)
                .unwrap_err(),
            jobs.store_field("x", TranscriptionJob::PLUGIN, &"p".into())
                .unwrap_err(),
            jobs.update("x", |_| {}).map(drop).unwrap_err(),
            jobs.update_field("x", TranscriptionJob::PLUGIN, |_| {})
                .map(drop)
                .unwrap_err(),
        ];
        for err in errors {
            assert_eq!(err.to_string(), want, "sync, {stored}");
        }
        assert_eq!(session["transcription_x"], stored);

        let shared = std::sync::Arc::new(std::sync::Mutex::new(session));
        let jobs = AsyncJobSession::<TranscriptionJob, _>::new(shared.clone());
        let errors = [
            jobs.load("x").await.map(drop).unwrap_err(),
            jobs.load_field("x", TranscriptionJob::PLUGIN)
                .await
                .map(drop)
                .unwrap_err(),
            jobs.store_field("x", TranscriptionJob::PLUGIN, &"p".into())
                .await
                .unwrap_err(),
            jobs.update("x", |_| {}).await.map(drop).unwrap_err(),
            jobs.update_field("x", TranscriptionJob::PLUGIN, |_| {})
                .await
                .map(drop)
                .unwrap_err(),
        ];
        for err in errors {
            assert_eq!(err.to_string(), want, "async, {stored}");
        }
        assert_eq!(shared.lock().unwrap()["transcription_x"], stored);
    }
}
