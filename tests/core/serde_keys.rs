//! The stored keys equal the keys serde_json writes, for every serde rule
//! the derive follows. Each check serializes a value and compares the
//! object's keys with `field_keys()` and with the consts' names.

use std::collections::{BTreeSet, HashMap};

use jobsess::{Field, JobMetadata, JobSession};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The keys serde_json writes for `value`, which must be an object.
fn written_keys<T: Serialize>(value: &T) -> BTreeSet<String> {
    match serde_json::to_value(value).unwrap() {
        Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("not an object: {other}"),
    }
}

fn declared<M: JobMetadata>() -> BTreeSet<String> {
    M::field_keys().iter().map(|k| (*k).to_owned()).collect()
}

macro_rules! rename_all_case {
    ($test:ident, $rule:literal, $expected:expr) => {
        #[test]
        fn $test() {
            #[derive(Serialize, Deserialize, JobMetadata, Default)]
            #[serde(rename_all = $rule)]
            struct Job {
                file_info: u8,
                plugin_id_v2: u8,
                x: u8,
            }
            let expected: BTreeSet<String> =
                $expected.iter().map(|s: &&str| (*s).to_owned()).collect();
            assert_eq!(written_keys(&Job::default()), expected);
            assert_eq!(declared::<Job>(), expected);
            let consts: BTreeSet<String> = [
                Job::FILE_INFO.name(),
                Job::PLUGIN_ID_V2.name(),
                Job::X.name(),
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            assert_eq!(consts, expected);
        }
    };
}

rename_all_case!(
    rename_all_lowercase,
    "lowercase",
    ["file_info", "plugin_id_v2", "x"]
);
rename_all_case!(
    rename_all_uppercase,
    "UPPERCASE",
    ["FILE_INFO", "PLUGIN_ID_V2", "X"]
);
rename_all_case!(
    rename_all_pascal,
    "PascalCase",
    ["FileInfo", "PluginIdV2", "X"]
);
rename_all_case!(
    rename_all_camel,
    "camelCase",
    ["fileInfo", "pluginIdV2", "x"]
);
rename_all_case!(
    rename_all_snake,
    "snake_case",
    ["file_info", "plugin_id_v2", "x"]
);
rename_all_case!(
    rename_all_screaming_snake,
    "SCREAMING_SNAKE_CASE",
    ["FILE_INFO", "PLUGIN_ID_V2", "X"]
);
rename_all_case!(
    rename_all_kebab,
    "kebab-case",
    ["file-info", "plugin-id-v2", "x"]
);
rename_all_case!(
    rename_all_screaming_kebab,
    "SCREAMING-KEBAB-CASE",
    ["FILE-INFO", "PLUGIN-ID-V2", "X"]
);

#[test]
fn rename_all_serialize_only_names_are_written_and_read_alike() {
    // rename_all(serialize = ..., deserialize = ...) with one rule for both
    #[derive(Serialize, Deserialize, JobMetadata, Default)]
    #[serde(rename_all(serialize = "camelCase", deserialize = "camelCase"))]
    struct Job {
        file_info: u8,
    }
    assert_eq!(written_keys(&Job::default()), declared::<Job>());
    assert_eq!(Job::FILE_INFO.name(), "fileInfo");
}

#[test]
fn rename_beats_rename_all() {
    #[derive(Serialize, Deserialize, JobMetadata, Default)]
    #[serde(rename_all = "camelCase")]
    struct Job {
        #[serde(rename = "FILE")]
        file_info: u8,
        plugin_info: u8,
    }
    assert_eq!(written_keys(&Job::default()), declared::<Job>());
    assert_eq!(Job::FILE_INFO.name(), "FILE");
    assert_eq!(Job::PLUGIN_INFO.name(), "pluginInfo");
}

#[test]
fn skipped_fields_have_no_key() {
    #[derive(Serialize, Deserialize, JobMetadata, Default)]
    #[allow(dead_code)]
    struct Job {
        kept: u8,
        #[serde(skip)]
        skipped: u8,
        #[serde(skip_serializing)]
        never_written: u8,
        #[serde(skip_deserializing)]
        never_read: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        sometimes: Option<u8>,
    }
    let job = Job {
        sometimes: Some(1),
        ..Job::default()
    };
    // skip_deserializing fields are written but never read back: no typed key.
    let mut written = written_keys(&job);
    written.remove("never_read");
    assert_eq!(written, declared::<Job>());
    assert_eq!(Job::field_keys(), ["kept", "sometimes"]);
}

#[test]
fn raw_identifiers_are_unraw() {
    #[derive(Serialize, Deserialize, JobMetadata, Default)]
    struct Job {
        r#type: String,
        r#match: u8,
    }
    assert_eq!(written_keys(&Job::default()), declared::<Job>());
    let ty: Field<Job, String> = Job::TYPE;
    assert_eq!(ty.name(), "type");
    assert_eq!(Job::MATCH.name(), "match");
}

#[test]
fn defaults_follow_serde() {
    fn seven() -> u8 {
        7
    }
    #[derive(Serialize, Deserialize, JobMetadata)]
    struct Job {
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default = "seven")]
        retries: u8,
        required: u8,
        maybe: Option<u8>,
    }
    let mut session = HashMap::from([("job_a".to_owned(), json!({}))]);
    let jobs = JobSession::<Job, _>::new(&mut session);
    assert_eq!(jobs.load_field("a", Job::TAGS).unwrap(), Some(vec![]));
    assert_eq!(jobs.load_field("a", Job::RETRIES).unwrap(), Some(7));
    assert_eq!(jobs.load_field("a", Job::MAYBE).unwrap(), Some(None));
    let err = jobs.load_field("a", Job::REQUIRED).unwrap_err();
    assert_eq!(
        err.to_string(),
        "job_a as u8: required: missing field `required`"
    );
    // the whole struct agrees with the fields
    let err = jobs.load("a").err().unwrap().to_string();
    assert!(err.contains("missing field `required`"), "{err}");
}

#[test]
fn container_default_is_used_per_field() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[serde(default)]
    struct Job {
        language: String,
        format: String,
    }
    impl Default for Job {
        fn default() -> Self {
            Job {
                language: "en".into(),
                format: "srt".into(),
            }
        }
    }
    fn custom() -> Job2 {
        Job2 { level: 3 }
    }
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[serde(default = "custom")]
    struct Job2 {
        level: u8,
    }
    let mut session = HashMap::from([("job_a".to_owned(), json!({"format": "vtt"}))]);
    let jobs = JobSession::<Job, _>::new(&mut session);
    assert_eq!(
        jobs.load_field("a", Job::LANGUAGE).unwrap().as_deref(),
        Some("en")
    );
    assert_eq!(
        jobs.load_field("a", Job::FORMAT).unwrap().as_deref(),
        Some("vtt")
    );
    let loaded = jobs.load("a").unwrap().unwrap();
    assert_eq!(
        (loaded.language.as_str(), loaded.format.as_str()),
        ("en", "vtt")
    );
    let jobs = JobSession::<Job2, _>::new(&mut session);
    assert_eq!(jobs.load_field("a", Job2::LEVEL).unwrap(), Some(3));
}

#[test]
fn aliases_load_but_the_key_is_the_written_name() {
    #[derive(Serialize, Deserialize, JobMetadata, Default)]
    struct Job {
        #[serde(alias = "old_name")]
        name: String,
    }
    assert_eq!(Job::NAME.name(), "name");
    assert_eq!(written_keys(&Job::default()), declared::<Job>());
}

#[test]
fn generics_and_where_clauses() {
    #[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
    #[serde(bound = "T: Serialize + serde::de::DeserializeOwned")]
    struct Job<T, const N: usize>
    where
        T: Clone,
    {
        payload: T,
        counts: Vec<u8>,
        #[serde(skip)]
        width: std::marker::PhantomData<[u8; N]>,
    }
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Job<String, 2>, _>::new(&mut session);
    let job = Job {
        payload: "x".to_owned(),
        counts: vec![1, 2],
        width: std::marker::PhantomData,
    };
    jobs.store("g", &job).unwrap();
    assert_eq!(jobs.load("g").unwrap(), Some(job));
    let payload: Field<Job<String, 2>, String> = Job::<String, 2>::PAYLOAD;
    assert_eq!(jobs.load_field("g", payload).unwrap().as_deref(), Some("x"));
    assert_eq!(
        <Job<u8, 0> as JobMetadata>::field_keys(),
        ["payload", "counts"]
    );
}

#[test]
fn lifetimes_in_generics() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[allow(dead_code)]
    struct Job<'a> {
        #[serde(skip)]
        borrowed: Option<&'a str>,
        owned: String,
    }
    assert_eq!(Job::field_keys(), ["owned"]);
}

#[test]
fn type_name_and_prefix() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[job_metadata(prefix = "render-v2")]
    struct RenderJob {
        scene: String,
    }
    assert_eq!(RenderJob::key_prefix(), "render-v2");
    assert_eq!(RenderJob::type_name(), "RenderJob");
}

/// A crate that re-exports jobsess under another name points the derive at it.
mod facade {
    pub use ::jobsess as js;
}

#[test]
fn crate_path_for_re_exports() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[job_metadata(crate = "facade::js", prefix = "via-facade")]
    struct Reexported {
        a: u8,
    }
    let key: facade::js::Field<Reexported, u8> = Reexported::A;
    assert_eq!(key.name(), "a");
    assert_eq!(Reexported::key_prefix(), "via-facade");
}
