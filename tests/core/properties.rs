//! Property tests: round trips, field writes, and prefix isolation.

use std::collections::{BTreeMap, HashMap};

use jobsess::{JobMetadata, JobSession, UntypedJob};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct FileInfo {
    name: String,
    size: u64,
    tags: Vec<String>,
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
struct TranscriptionJob {
    file_info: FileInfo,
    plugin_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    options: BTreeMap<String, i64>,
    progress: f64,
}

fn file_info() -> impl Strategy<Value = FileInfo> {
    (
        any::<String>(),
        any::<u64>(),
        prop::collection::vec(any::<String>(), 0..4),
    )
        .prop_map(|(name, size, tags)| FileInfo { name, size, tags })
}

fn job() -> impl Strategy<Value = TranscriptionJob> {
    (
        file_info(),
        any::<String>(),
        proptest::option::of(any::<String>()),
        prop::collection::btree_map(any::<String>(), any::<i64>(), 0..4),
        -1e12f64..1e12,
    )
        .prop_map(
            |(file_info, plugin_title, language, options, progress)| TranscriptionJob {
                file_info,
                plugin_title,
                language,
                options,
                progress,
            },
        )
}

/// Ids the rules accept.
fn job_id() -> impl Strategy<Value = String> {
    "[^\\p{Cc}]{1,40}"
}

/// Any session key at all, job key or not.
fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_-]{0,12}",
        "(job|jobs|job-x|export|processing)_[a-z0-9_]{0,6}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn store_then_load_round_trips(id in job_id(), job in job()) {
        let mut session = HashMap::new();
        let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
        jobs.store(&id, &job).unwrap();
        prop_assert_eq!(jobs.load(&id).unwrap(), Some(job.clone()));
        // and the stored JSON is exactly serde_json's
        let key = format!("job_{id}");
        prop_assert_eq!(&session[&key], &serde_json::to_value(&job).unwrap());
    }

    #[test]
    fn store_field_equals_replacing_the_field(
        id in job_id(),
        job in job(),
        file in file_info(),
        language in proptest::option::of(any::<String>()),
        title in any::<String>(),
    ) {
        let mut session = BTreeMap::new();
        let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
        jobs.store(&id, &job).unwrap();
        jobs.store_field(&id, TranscriptionJob::FILE_INFO, &file).unwrap();
        jobs.store_field(&id, TranscriptionJob::LANGUAGE, &language).unwrap();
        jobs.store_field(&id, TranscriptionJob::PLUGIN_TITLE, &title).unwrap();
        let expected = TranscriptionJob { file_info: file.clone(), language: language.clone(), plugin_title: title.clone(), ..job };
        prop_assert_eq!(jobs.load(&id).unwrap(), Some(expected));
        prop_assert_eq!(jobs.load_field(&id, TranscriptionJob::FILE_INFO).unwrap(), Some(file));
        prop_assert_eq!(jobs.load_field(&id, TranscriptionJob::LANGUAGE).unwrap(), Some(language));
    }

    #[test]
    fn clear_touches_only_its_own_prefix(
        keys in prop::collection::btree_map(any_key(), any::<i32>(), 0..30),
        prefix in "[A-Za-z0-9-]{1,8}",
        ids in prop::collection::vec(job_id(), 0..6),
    ) {
        let start = format!("{prefix}_");
        let mut session: BTreeMap<String, Value> =
            keys.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut jobs = JobSession::<UntypedJob, _>::with_prefix(&mut session, prefix.clone()).unwrap();
        for id in &ids {
            jobs.store(id, &serde_json::Map::new()).unwrap();
        }
        let before: BTreeMap<String, Value> = jobs
            .session()
            .iter()
            .filter(|(k, _)| !k.starts_with(&start))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let expected = jobs.session().keys().filter(|k| k.starts_with(&start)).count();
        prop_assert_eq!(jobs.clear().unwrap(), expected);
        prop_assert_eq!(&session, &before);

        // the same on a HashMap
        let mut session: HashMap<String, Value> =
            keys.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let before: HashMap<String, Value> =
            session.iter().filter(|(k, _)| !k.starts_with(&start)).map(|(k, v)| (k.clone(), v.clone())).collect();
        JobSession::<UntypedJob, _>::with_prefix(&mut session, prefix).unwrap().clear().unwrap();
        prop_assert_eq!(session, before);
    }
}

/// Any JSON value at all.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
        Just(Value::from("big")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("fileInfo".to_owned()),
                    Just("name".to_owned()),
                    Just("size".to_owned()),
                    Just("tags".to_owned()),
                    Just("pluginTitle".to_owned()),
                    Just("language".to_owned()),
                    Just("options".to_owned()),
                    Just("progress".to_owned()),
                    any::<String>(),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever a session holds, every operation returns (`Ok` or a named
    /// `Err`) without panicking, and a failed write changes nothing.
    #[test]
    fn no_session_content_makes_anything_panic(
        entries in prop::collection::btree_map(any_key(), any_json(), 0..12),
        id in prop_oneof![job_id(), any::<String>()],
        file in file_info(),
    ) {
        let mut session: BTreeMap<String, Value> = entries;
        session.insert(format!("job_{id}"), json!({"fileInfo": {"name": 1}}));
        let under_prefix = session.keys().filter(|k| k.starts_with("job_")).count();
        let mut jobs = JobSession::<TranscriptionJob, _>::new(&mut session);
        let ids = jobs.ids().unwrap();
        // ids() lists each job once, and only ids the handle accepts
        prop_assert!(ids.iter().all(|id| jobsess::key::validate_job_id(id).is_ok()));
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        for listed in ids.iter().chain([&id]) {
            if let Err(err) = jobs.load(listed) {
                prop_assert!(!err.to_string().is_empty());
            }
            let _ = jobs.load_field(listed, TranscriptionJob::FILE_INFO);
            let _ = jobs.load_field(listed, TranscriptionJob::LANGUAGE);
            let _ = jobs.contains(listed);
            let before = jobs.session().get(&format!("job_{listed}")).cloned();
            if jobs.store_field(listed, TranscriptionJob::FILE_INFO, &file).is_err() {
                prop_assert_eq!(jobs.session().get(&format!("job_{listed}")).cloned(), before);
            }
        }
        let entries = jobs.entries().unwrap();
        prop_assert_eq!(entries.len(), ids.len());
        // clear() removes every key under the prefix, listed or not
        prop_assert_eq!(jobs.clear().unwrap(), under_prefix);
        prop_assert!(jobs.ids().unwrap().is_empty());
    }
}
