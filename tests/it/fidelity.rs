//! Per-field access is exactly whole-struct serde, for every serde attribute
//! the derive honours: a property test that compares the two ways of doing
//! the same thing, on a sync map session, on the async handle over a shared
//! map (the backend's own field access) and over a real tower-sessions
//! `Session` (read, patch, write back).
//!
//! For a job `m` stored whole and any field `F` and value `v`:
//! - `store_field(id, F, &v)` leaves the session byte for byte as
//!   `store(id, &m_with_f_set_to_v)` does;
//! - `load_field(id, F)` returns `load(id)?.f`.
//!
//! For data written by other code (under an alias, with defaulted fields
//! left out), `load_field` still returns what `load` gives, and
//! `store_field` changes exactly what `load` then sees of `F`, writes `F`
//! under its canonical key with no alias left, and keeps every other key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jobsess::{AsyncJobSession, Field, JobMetadata, JobSession};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A `u64` kept as a decimal string.
mod as_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A type with no serde impls of its own, through a helper module.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Celsius(i32);

mod celsius {
    use super::Celsius;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Celsius, serializer: S) -> Result<S::Ok, S::Error> {
        format!("{}C", value.0).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Celsius, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.strip_suffix('C')
            .and_then(|n| n.parse().ok())
            .map(Celsius)
            .ok_or_else(|| serde::de::Error::custom(format!("not a temperature: {text:?}")))
    }
}

/// Writes lower case; reads through `String`'s own impl.
fn lower<S: serde::Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_lowercase())
}

/// Reads trimmed; writes through `String`'s own impl.
fn trimmed<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(String::deserialize(deserializer)?.trim().to_owned())
}

/// Reads a number capped at 1000. With `deserialize_with`, serde makes an
/// absent field an error even for an `Option`, so the field has a default.
fn capped<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(Option::<u32>::deserialize(deserializer)?.map(|n| n.min(1000)))
}

fn default_language() -> String {
    "en".to_owned()
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, Clone, PartialEq)]
#[job_metadata(prefix = "fidelity")]
#[serde(rename_all(serialize = "camelCase"))]
#[serde(rename_all(deserialize = "camelCase"))]
struct Job {
    #[serde(alias = "file", alias = "fname")]
    file_name: String,
    #[serde(with = "as_string")]
    size: u64,
    #[serde(with = "celsius")]
    temp: Celsius,
    #[serde(serialize_with = "lower")]
    plugin: String,
    #[serde(deserialize_with = "trimmed")]
    note: String,
    #[serde(default, deserialize_with = "capped")]
    capped: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(default = "default_language")]
    language: String,
    #[serde(rename = "p")]
    progress: u8,
    ratio: f64,
    maybe: Option<i64>,
    #[serde(skip)]
    cache: u8,
    // named like the trait's items: the consts SCHEMA and KEY_PREFIX
    schema: String,
    key_prefix: bool,
}

fn job() -> impl Strategy<Value = Job> {
    (
        (
            "[a-z ]{0,8}",
            any::<u64>(),
            any::<i32>(),
            "[A-Za-z]{0,6}",
            " ?[a-z]{0,6} ?",
            proptest::option::of(any::<u32>()),
            proptest::option::of("[a-z]{0,4}"),
        ),
        (
            prop::collection::vec("[a-z]{0,3}", 0..3),
            "[a-z]{0,3}",
            any::<u8>(),
            -1e9f64..1e9,
            proptest::option::of(any::<i64>()),
            "[a-z]{0,4}",
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (file_name, size, temp, plugin, note, capped, error),
                (tags, language, progress, ratio, maybe, schema, key_prefix),
            )| Job {
                file_name,
                size,
                temp: Celsius(temp),
                plugin,
                note,
                capped,
                error,
                tags,
                language,
                progress,
                ratio,
                maybe,
                cache: 0,
                schema,
                key_prefix,
            },
        )
}

/// One field write of each field, as `(field const, new value)`, applied to
/// `m` the same way, so the two can be compared.
#[derive(Debug, Clone)]
enum Write {
    FileName(String),
    Size(u64),
    Temp(Celsius),
    Plugin(String),
    Note(String),
    Capped(Option<u32>),
    Error(Option<String>),
    Tags(Vec<String>),
    Language(String),
    Progress(u8),
    Ratio(f64),
    Maybe(Option<i64>),
    Schema(String),
    KeyPrefix(bool),
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        "[a-z]{0,5}".prop_map(Write::FileName),
        any::<u64>().prop_map(Write::Size),
        any::<i32>().prop_map(|t| Write::Temp(Celsius(t))),
        "[A-Za-z]{0,5}".prop_map(Write::Plugin),
        " ?[a-z]{0,5}".prop_map(Write::Note),
        proptest::option::of(any::<u32>()).prop_map(Write::Capped),
        proptest::option::of("[a-z]{0,4}").prop_map(Write::Error),
        prop::collection::vec("[a-z]{0,3}", 0..3).prop_map(Write::Tags),
        "[a-z]{0,3}".prop_map(Write::Language),
        any::<u8>().prop_map(Write::Progress),
        (-1e9f64..1e9).prop_map(Write::Ratio),
        proptest::option::of(any::<i64>()).prop_map(Write::Maybe),
        "[a-z]{0,4}".prop_map(Write::Schema),
        any::<bool>().prop_map(Write::KeyPrefix),
    ]
}

/// Runs `$body` with `$field` bound to the const, `$value` to the value of
/// a [`Write`], and `$set` to a closure that makes the same change to a `Job`.
macro_rules! with_write {
    ($write:expr, |$field:ident, $value:ident, $set:ident| $body:block) => {
        match $write {
            Write::FileName(v) => {
                let ($field, $value) = (Job::FILE_NAME, v);
                let $set = |j: &mut Job| j.file_name = v.clone();
                $body
            }
            Write::Size(v) => {
                let ($field, $value) = (Job::SIZE, v);
                let $set = |j: &mut Job| j.size = *v;
                $body
            }
            Write::Temp(v) => {
                let ($field, $value) = (Job::TEMP, v);
                let $set = |j: &mut Job| j.temp = *v;
                $body
            }
            Write::Plugin(v) => {
                let ($field, $value) = (Job::PLUGIN, v);
                let $set = |j: &mut Job| j.plugin = v.clone();
                $body
            }
            Write::Note(v) => {
                let ($field, $value) = (Job::NOTE, v);
                let $set = |j: &mut Job| j.note = v.clone();
                $body
            }
            Write::Capped(v) => {
                let ($field, $value) = (Job::CAPPED, v);
                let $set = |j: &mut Job| j.capped = *v;
                $body
            }
            Write::Error(v) => {
                let ($field, $value) = (Job::ERROR, v);
                let $set = |j: &mut Job| j.error = v.clone();
                $body
            }
            Write::Tags(v) => {
                let ($field, $value) = (Job::TAGS, v);
                let $set = |j: &mut Job| j.tags = v.clone();
                $body
            }
            Write::Language(v) => {
                let ($field, $value) = (Job::LANGUAGE, v);
                let $set = |j: &mut Job| j.language = v.clone();
                $body
            }
            Write::Progress(v) => {
                let ($field, $value) = (Job::PROGRESS, v);
                let $set = |j: &mut Job| j.progress = *v;
                $body
            }
            Write::Ratio(v) => {
                let ($field, $value) = (Job::RATIO, v);
                let $set = |j: &mut Job| j.ratio = *v;
                $body
            }
            Write::Maybe(v) => {
                let ($field, $value) = (Job::MAYBE, v);
                let $set = |j: &mut Job| j.maybe = *v;
                $body
            }
            Write::Schema(v) => {
                let ($field, $value) = (Job::SCHEMA, v);
                let $set = |j: &mut Job| j.schema = v.clone();
                $body
            }
            Write::KeyPrefix(v) => {
                let ($field, $value) = (Job::KEY_PREFIX, v);
                let $set = |j: &mut Job| j.key_prefix = *v;
                $body
            }
        }
    };
}

/// `load_field` of every field against `load(id)?.f`, through `$load_field`
/// (a closure from a field const to the loaded value).
macro_rules! assert_fields_match {
    ($whole:expr, $load_field:ident) => {{
        let whole: &Job = $whole;
        assert_eq!($load_field!(Job::FILE_NAME), whole.file_name);
        assert_eq!($load_field!(Job::SIZE), whole.size);
        assert_eq!($load_field!(Job::TEMP), whole.temp);
        assert_eq!($load_field!(Job::PLUGIN), whole.plugin);
        assert_eq!($load_field!(Job::NOTE), whole.note);
        assert_eq!($load_field!(Job::CAPPED), whole.capped);
        assert_eq!($load_field!(Job::ERROR), whole.error);
        assert_eq!($load_field!(Job::TAGS), whole.tags);
        assert_eq!($load_field!(Job::LANGUAGE), whole.language);
        assert_eq!($load_field!(Job::PROGRESS), whole.progress);
        assert_eq!($load_field!(Job::RATIO).to_bits(), whole.ratio.to_bits());
        assert_eq!($load_field!(Job::MAYBE), whole.maybe);
        assert_eq!($load_field!(Job::SCHEMA), whole.schema);
        assert_eq!($load_field!(Job::KEY_PREFIX), whole.key_prefix);
    }};
}

/// The object `store` writes for `m`.
fn stored(m: &Job) -> Map<String, Value> {
    let mut session = HashMap::new();
    JobSession::<Job, _>::new(&mut session)
        .store("a", m)
        .unwrap();
    match session.remove("fidelity_a") {
        Some(Value::Object(fields)) => fields,
        other => panic!("not an object: {other:?}"),
    }
}

/// What `load` gives after `store` of `m`.
fn roundtrip(m: &Job) -> Job {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    jobs.store("a", m).unwrap();
    jobs.load("a").unwrap().unwrap()
}

/// Data another writer left: `file_name` under one of its aliases, and some
/// defaulted fields left out.
fn legacy() -> impl Strategy<Value = Map<String, Value>> {
    (job(), 0..3usize, any::<[bool; 4]>()).prop_map(|(m, alias, drop)| {
        let mut fields = stored(&m);
        if alias > 0 {
            let name = fields.remove("fileName").unwrap();
            fields.insert(["file", "fname"][alias - 1].to_owned(), name);
        }
        for (key, drop) in ["capped", "error", "tags", "language"].iter().zip(drop) {
            if drop {
                fields.remove(*key);
            }
        }
        fields
    })
}

fn text(session: &HashMap<String, Value>) -> String {
    // a BTreeMap orders the keys, so equal sessions give equal text
    serde_json::to_string(&session.iter().collect::<std::collections::BTreeMap<_, _>>()).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sync_field_writes_equal_whole_stores(m in job(), w in write()) {
        let mut session = HashMap::new();
        session.insert("user".to_owned(), json!("ann"));
        JobSession::<Job, _>::new(&mut session).store("a", &m).unwrap();
        let mut expected = session.clone();
        with_write!(&w, |field, value, set| {
            JobSession::<Job, _>::new(&mut session).store_field("a", field, value).unwrap();
            let mut m2 = m.clone();
            set(&mut m2);
            JobSession::<Job, _>::new(&mut expected).store("a", &m2).unwrap();
        });
        prop_assert_eq!(text(&session), text(&expected));
    }

    #[test]
    fn sync_field_reads_equal_whole_loads(m in job()) {
        let mut session = HashMap::new();
        let mut jobs = JobSession::<Job, _>::new(&mut session);
        jobs.store("a", &m).unwrap();
        let whole = jobs.load("a").unwrap().unwrap();
        macro_rules! load_field { ($f:expr) => { jobs.load_field("a", $f).unwrap().unwrap() } }
        assert_fields_match!(&whole, load_field);
    }

    #[test]
    fn legacy_data_reads_and_writes_as_serde_does(fields in legacy(), w in write()) {
        let mut session = HashMap::new();
        session.insert("fidelity_a".to_owned(), Value::Object(fields.clone()));
        let mut jobs = JobSession::<Job, _>::new(&mut session);
        let whole = jobs.load("a").unwrap().unwrap();
        macro_rules! load_field { ($f:expr) => { jobs.load_field("a", $f).unwrap().unwrap() } }
        assert_fields_match!(&whole, load_field);

        // The functions of `with` need not give back what they were given
        // (`lower`, `trimmed`, `capped`): compare with a whole store's round trip.
        let mut expected = whole.clone();
        let written = with_write!(&w, |field, value, set| {
            set(&mut expected);
            expected = roundtrip(&expected);
            jobs.store_field("a", field, value).unwrap();
            field_keys(field)
        });
        prop_assert_eq!(jobs.load("a").unwrap().unwrap(), expected);
        let Value::Object(after) = &session["fidelity_a"] else { panic!("not an object") };
        // every key of the other fields is as it was
        for (key, value) in &fields {
            if !written.contains(&key.as_str()) {
                prop_assert_eq!(after.get(key), Some(value), "{}", key);
            }
        }
        // the written field is under its canonical key only, or absent if skipped
        for alias in &written[1..] {
            prop_assert!(!after.contains_key(*alias), "alias {} left", alias);
        }
    }

    #[test]
    fn async_shared_map_agrees_with_whole_struct(m in job(), w in write()) {
        rt().block_on(async {
            let session = Arc::new(Mutex::new(HashMap::new()));
            let jobs = AsyncJobSession::<Job, _>::new(Arc::clone(&session));
            jobs.store("a", &m).await.unwrap();
            let whole = jobs.load("a").await.unwrap().unwrap();
            let mut loaded = Vec::new();
            macro_rules! load_field { ($f:expr) => {{
                let v = jobs.load_field("a", $f).await.unwrap().unwrap();
                loaded.push(());
                v
            }} }
            assert_fields_match!(&whole, load_field);
            assert_eq!(loaded.len(), 14);

            let mut expected = HashMap::new();
            let mut m2 = m.clone();
            with_write!(&w, |field, value, set| {
                set(&mut m2);
                jobs.store_field("a", field, value).await.unwrap();
            });
            JobSession::<Job, _>::new(&mut expected).store("a", &m2).unwrap();
            assert_eq!(text(&session.lock().unwrap()), text(&expected));
        });
    }

    #[test]
    fn actix_session_agrees_with_whole_struct(fields in legacy(), w in write()) {
        use actix_session::SessionExt;
        let req = actix_web::test::TestRequest::default().to_http_request();
        let session = req.get_session();
        session.insert("fidelity_a", Value::Object(fields)).unwrap();
        let mut jobs = JobSession::<Job, _>::new(session);
        let whole = jobs.load("a").unwrap().unwrap();
        macro_rules! load_field { ($f:expr) => { jobs.load_field("a", $f).unwrap().unwrap() } }
        assert_fields_match!(&whole, load_field);
        let mut expected = whole.clone();
        with_write!(&w, |field, value, set| {
            set(&mut expected);
            expected = roundtrip(&expected);
            jobs.store_field("a", field, value).unwrap();
        });
        prop_assert_eq!(jobs.load("a").unwrap().unwrap(), expected.clone());
        // and a whole store through actix's text path reads back the same
        jobs.store("b", &expected).unwrap();
        prop_assert_eq!(jobs.load("b").unwrap().unwrap(), roundtrip(&expected));
    }

    #[test]
    fn async_tower_session_agrees_with_whole_struct(fields in legacy(), w in write()) {
        rt().block_on(async {
            let session = tower_sessions::Session::new(
                None,
                Arc::new(tower_sessions::MemoryStore::default()),
                None,
            );
            session.insert_value("fidelity_a", Value::Object(fields)).await.unwrap();
            let jobs = AsyncJobSession::<Job, _>::new(session.clone());
            let whole = jobs.load("a").await.unwrap().unwrap();
            macro_rules! load_field { ($f:expr) => { jobs.load_field("a", $f).await.unwrap().unwrap() } }
            assert_fields_match!(&whole, load_field);
            let mut expected = whole.clone();
            with_write!(&w, |field, value, set| {
                set(&mut expected);
                expected = roundtrip(&expected);
                jobs.store_field("a", field, value).await.unwrap();
            });
            assert_eq!(jobs.load("a").await.unwrap().unwrap(), expected);
        });
    }
}

/// The keys a field is read from: its own, then its aliases.
fn field_keys<T>(field: Field<Job, T>) -> Vec<&'static str> {
    let mut keys = vec![field.name()];
    keys.extend_from_slice(field.aliases());
    keys
}

/// A job with every field at its zero.
fn sample() -> Job {
    Job {
        file_name: String::new(),
        size: 1,
        temp: Celsius(1),
        plugin: String::new(),
        note: String::new(),
        capped: None,
        error: None,
        tags: vec![],
        language: String::new(),
        progress: 0,
        ratio: 0.0,
        maybe: None,
        cache: 0,
        schema: String::new(),
        key_prefix: false,
    }
}

#[test]
fn with_fields_are_stored_through_their_functions() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let m = Job {
        file_name: "a.mp3".into(),
        size: 42,
        temp: Celsius(-3),
        plugin: "Whisper".into(),
        note: " hi ".into(),
        capped: Some(5000),
        error: None,
        tags: vec![],
        language: "de".into(),
        progress: 1,
        ratio: 0.5,
        maybe: None,
        cache: 9,
        schema: "s".into(),
        key_prefix: true,
    };
    jobs.store("a", &m).unwrap();
    jobs.store_field("a", Job::SIZE, &7).unwrap();
    jobs.store_field("a", Job::TEMP, &Celsius(20)).unwrap();
    jobs.store_field("a", Job::PLUGIN, &"LOUD".to_owned())
        .unwrap();
    assert_eq!(jobs.load_field("a", Job::SIZE).unwrap(), Some(7));
    assert_eq!(
        jobs.load_field("a", Job::NOTE).unwrap().as_deref(),
        Some("hi")
    );
    assert_eq!(jobs.load_field("a", Job::CAPPED).unwrap(), Some(Some(1000)));
    let loaded = jobs.load("a").unwrap().unwrap();
    assert_eq!((loaded.size, loaded.temp), (7, Celsius(20)));
    let stored = &session["fidelity_a"];
    assert_eq!(stored["size"], json!("7"));
    assert_eq!(stored["temp"], json!("20C"));
    assert_eq!(stored["plugin"], json!("loud"));
    assert!(stored.get("error").is_none() && stored.get("tags").is_none());
    // The trait's items are functions, the field consts don't shadow them.
    assert_eq!(Job::key_prefix(), "fidelity");
    assert_eq!(Job::SCHEMA.name(), "schema");
    assert_eq!(Job::KEY_PREFIX.name(), "keyPrefix");
    assert_eq!(Job::schema().type_name, "Job");
}

#[test]
fn a_corrupt_with_field_names_key_type_and_path() {
    let mut session = HashMap::new();
    let mut fields = stored(&sample());
    fields.insert("temp".into(), json!("hot"));
    fields.insert("size".into(), json!(5));
    session.insert("fidelity_a".to_owned(), Value::Object(fields));
    let jobs = JobSession::<Job, _>::new(&mut session);
    let err = jobs.load_field("a", Job::TEMP).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"fidelity_a as Celsius: temp: not a temperature: "hot""#
    );
    let err = jobs.load_field("a", Job::SIZE).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fidelity_a as u64: size: invalid type: integer `5`, expected a string"
    );
    // absent, a field read through `deserialize_with` and with no default is
    // an error, as serde's derive makes it
    let mut session = HashMap::new();
    session.insert("fidelity_a".to_owned(), json!({}));
    let jobs = JobSession::<Job, _>::new(&mut session);
    let err = jobs.load_field("a", Job::NOTE).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fidelity_a as String: note: missing field `note`"
    );
    assert_eq!(jobs.load_field("a", Job::MAYBE).unwrap(), Some(None));
    assert_eq!(jobs.load_field("a", Job::CAPPED).unwrap(), Some(None));
}

#[test]
fn an_alias_next_to_its_field_is_a_duplicate_both_ways() {
    let mut session = HashMap::new();
    let mut fields = stored(&Job {
        file_name: "x".into(),
        ..sample()
    });
    fields.insert("file".into(), json!("y"));
    session.insert("fidelity_a".to_owned(), Value::Object(fields));
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let whole = jobs.load("a").unwrap_err().to_string();
    let field = jobs
        .load_field("a", Job::FILE_NAME)
        .unwrap_err()
        .to_string();
    assert!(whole.contains("duplicate field `fileName`"), "{whole}");
    assert!(field.contains("duplicate field `fileName`"), "{field}");
    // a field write repairs it: the canonical key, no alias
    jobs.store_field("a", Job::FILE_NAME, &"z".to_owned())
        .unwrap();
    assert_eq!(jobs.load("a").unwrap().unwrap().file_name, "z");
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
struct Floats {
    ratio: f64,
    maybe: Option<f32>,
    series: Vec<f64>,
}

#[test]
fn non_finite_floats_are_refused_by_name_and_nothing_is_written() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Floats, _>::new(&mut session);
    let ok = Floats {
        ratio: 1.0,
        maybe: Some(2.0),
        series: vec![3.0],
    };
    jobs.store("a", &ok).unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = jobs
            .store(
                "a",
                &Floats {
                    ratio: bad,
                    ..ok.clone()
                },
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("job_a as Floats: ratio: cannot encode: a non-finite float"),
            "{err}"
        );
        let err = jobs
            .store_field("a", Floats::SERIES, &vec![0.0, bad])
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("job_a as Vec<f64>: series[1]: cannot encode"),
            "{err}"
        );
        let err = jobs
            .store(
                "b",
                &Floats {
                    series: vec![bad],
                    ..ok.clone()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("series[0]"), "{err}");
    }
    let err = jobs
        .store_field("a", Floats::MAYBE, &Some(f32::NAN))
        .unwrap_err();
    assert!(err.to_string().contains(": maybe: cannot encode"), "{err}");
    assert_eq!(jobs.load("a").unwrap(), Some(ok));
    assert!(!jobs.contains("b").unwrap());
}

/// actix-session's `load_field` decodes the field straight from the job's
/// text: its errors read as on a map, and a key twice in the text is serde's
/// `duplicate field` there as it is for `load`.
#[test]
fn actix_field_reads_from_text_agree_with_maps() {
    use actix_session::SessionExt;
    let req = actix_web::test::TestRequest::default().to_http_request();
    let session = req.get_session();
    let jobs = JobSession::<Floats, _>::new(session.clone());
    let bad = json!({"ratio": 1.5, "maybe": "x", "series": [1.0, "y"]});
    session.insert("job_bad", &bad).unwrap();
    let mut map = HashMap::from([("job_bad".to_owned(), bad)]);
    let on_map = JobSession::<Floats, _>::new(&mut map);
    assert_eq!(jobs.load_field("bad", Floats::RATIO).unwrap(), Some(1.5));
    for (actix, map) in [
        (
            jobs.load_field("bad", Floats::MAYBE).map(drop),
            on_map.load_field("bad", Floats::MAYBE).map(drop),
        ),
        (
            jobs.load_field("bad", Floats::SERIES).map(drop),
            on_map.load_field("bad", Floats::SERIES).map(drop),
        ),
    ] {
        assert_eq!(actix.unwrap_err().to_string(), map.unwrap_err().to_string());
    }
    assert_eq!(
        jobs.load_field("bad", Floats::SERIES)
            .unwrap_err()
            .to_string(),
        r#"job_bad as Vec<f64>: series[1]: invalid type: string "y", expected f64"#
    );

    let twice = serde_json::value::RawValue::from_string(
        r#"{"ratio": 1.0, "series": [], "ratio": 2.0}"#.to_owned(),
    )
    .unwrap();
    session.insert("job_twice", &twice).unwrap();
    for err in [
        jobs.load("twice").unwrap_err().to_string(),
        jobs.load_field("twice", Floats::RATIO)
            .unwrap_err()
            .to_string(),
    ] {
        assert!(err.contains("duplicate field `ratio`"), "{err}");
    }
    assert_eq!(jobs.load_field("none", Floats::RATIO).unwrap(), None);
}

#[test]
fn actix_sessions_refuse_what_maps_refuse() {
    use actix_session::SessionExt;
    let req = actix_web::test::TestRequest::default().to_http_request();
    let session = req.get_session();
    session.insert("job_arr", json!([1, 2])).unwrap();
    let mut jobs = JobSession::<Floats, _>::new(session.clone());
    let err = jobs
        .store(
            "a",
            &Floats {
                ratio: f64::NAN,
                maybe: None,
                series: vec![],
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("job_a as Floats: ratio: cannot encode: a non-finite float"),
        "{err}"
    );
    assert!(!jobs.contains("a").unwrap());
    let expected =
        "job_arr as Floats: stored value is an array, expected a JSON object of job metadata";
    assert_eq!(jobs.load("arr").unwrap_err().to_string(), expected);
    assert_eq!(
        jobs.load_field("arr", Floats::RATIO)
            .unwrap_err()
            .to_string(),
        expected
    );
    session
        .insert("job_bad", json!({"ratio": "x", "series": []}))
        .unwrap();
    let err = jobs.load("bad").unwrap_err().to_string();
    // decoded from the session's text, serde_json adds where in the text
    assert!(
        err.starts_with(r#"job_bad as Floats: ratio: invalid type: string "x", expected f64"#),
        "{err}"
    );
}

#[test]
fn a_job_stored_as_an_array_is_refused_both_ways() {
    #[derive(Serialize, Deserialize, JobMetadata, Debug)]
    struct Pair {
        a: u8,
        b: u8,
    }
    let mut session = HashMap::new();
    // serde's derived Deserialize would read this array as Pair { a: 1, b: 2 }
    session.insert("job_a".to_owned(), json!([1, 2]));
    let mut jobs = JobSession::<Pair, _>::new(&mut session);
    let expected =
        "job_a as Pair: stored value is an array, expected a JSON object of job metadata";
    assert_eq!(jobs.load("a").unwrap_err().to_string(), expected);
    assert_eq!(
        jobs.load_field("a", Pair::A).unwrap_err().to_string(),
        expected
    );
    assert_eq!(
        jobs.store_field("a", Pair::B, &3).unwrap_err().to_string(),
        expected
    );
    assert_eq!(session["job_a"], json!([1, 2]));
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
struct Generic<T, U> {
    #[serde(default)]
    value: T,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    list: Vec<U>,
    name: String,
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Default)]
#[serde(default)]
struct ContainerDefault<T> {
    value: T,
    label: String,
}

#[test]
fn defaults_on_generic_fields_and_containers() {
    let mut session = HashMap::new();
    session.insert("job_a".to_owned(), json!({"name": "n"}));
    let jobs = JobSession::<Generic<u8, String>, _>::new(&mut session);
    assert_eq!(
        jobs.load_field("a", Generic::<u8, String>::VALUE).unwrap(),
        Some(0)
    );
    assert_eq!(
        jobs.load_field("a", Generic::<u8, String>::LIST).unwrap(),
        Some(Vec::new())
    );
    let jobs = JobSession::<ContainerDefault<Vec<u8>>, _>::new(&mut session);
    assert_eq!(
        jobs.load_field("a", ContainerDefault::<Vec<u8>>::VALUE)
            .unwrap(),
        Some(Vec::new())
    );
    assert_eq!(
        jobs.load("a").unwrap(),
        Some(ContainerDefault {
            value: Vec::new(),
            label: String::new()
        })
    );
}

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq)]
#[serde(tag = "kind")]
struct Tagged {
    a: u8,
}

#[test]
fn a_struct_tag_is_kept_by_field_writes() {
    let mut session = HashMap::new();
    let mut jobs = JobSession::<Tagged, _>::new(&mut session);
    jobs.store("a", &Tagged { a: 1 }).unwrap();
    jobs.store_field("a", Tagged::A, &2).unwrap();
    assert_eq!(session["job_a"], json!({"kind": "Tagged", "a": 2}));
}
