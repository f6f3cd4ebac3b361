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
