//! The same behaviour on every embedded backend, and the id index used by
//! backends that can't list their keys.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use jobsess::{BoxError, JobMetadata, JobSession, SessionBackend, key};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
struct Job {
    file: String,
    progress: u8,
}

fn job(file: &str) -> Job {
    Job {
        file: file.into(),
        progress: 0,
    }
}

/// Runs the notebook's flow on `session` and checks what it holds after.
fn scenario<S: SessionBackend>(session: S) -> S {
    let mut jobs = JobSession::<Job, S>::new(session);
    jobs.store("job-2", &job("b.mp3")).unwrap();
    jobs.store("job-1", &job("a.mp3")).unwrap();
    jobs.store("job-3", &job("c.mp3")).unwrap();
    jobs.store("job-1", &job("a2.mp3")).unwrap();
    jobs.store_field("job-2", Job::PROGRESS, &50).unwrap();
    assert_eq!(jobs.ids().unwrap(), ["job-1", "job-2", "job-3"]);
    assert_eq!(jobs.load("job-1").unwrap(), Some(job("a2.mp3")));
    assert_eq!(jobs.load_field("job-2", Job::PROGRESS).unwrap(), Some(50));
    assert!(jobs.delete("job-3").unwrap());
    assert!(!jobs.delete("job-3").unwrap());
    assert_eq!(jobs.ids().unwrap(), ["job-1", "job-2"]);
    let entries = jobs.entries().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(jobs.clear().unwrap(), 2);
    assert!(jobs.ids().unwrap().is_empty());
    jobs.into_inner()
}

fn others() -> Vec<(String, Value)> {
    vec![
        ("jo".to_owned(), json!(1)),
        ("job".to_owned(), json!(2)),
        ("jobs_x".to_owned(), json!(3)),
        ("job-x_1".to_owned(), json!(4)),
        ("jobz".to_owned(), json!(5)),
        ("a".to_owned(), json!(6)),
        ("zzz".to_owned(), json!(7)),
    ]
}

#[test]
fn hash_map() {
    let session: HashMap<String, Value> = others().into_iter().collect();
    let after = scenario(session.clone());
    assert_eq!(after, session);
}

#[test]
fn btree_map() {
    let session: BTreeMap<String, Value> = others().into_iter().collect();
    let after = scenario(session.clone());
    assert_eq!(after, session);
}

#[test]
fn json_map() {
    let session: Map<String, Value> = others().into_iter().collect();
    let after = scenario(session.clone());
    assert_eq!(after, session);
}

#[test]
fn by_mutable_reference() {
    let mut session: BTreeMap<String, Value> = others().into_iter().collect();
    let before = session.clone();
    scenario(&mut session);
    assert_eq!(session, before);
}

/// A session that can't list its keys, like tower-sessions'.
#[derive(Default, Clone, Debug, PartialEq)]
struct Unlistable(HashMap<String, Value>);

impl SessionBackend for Unlistable {
    const LISTS_KEYS: bool = false;

    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>, BoxError> {
        self.0.get(key).map(|v| Ok(Cow::Borrowed(v))).transpose()
    }

    fn insert(&mut self, key: &str, value: Value) -> Result<bool, BoxError> {
        Ok(self.0.insert(key.to_owned(), value).is_some())
    }

    fn remove(&mut self, key: &str) -> Result<bool, BoxError> {
        Ok(self.0.remove(key).is_some())
    }

    fn keys_with_prefix(&self, _start: &str) -> Result<Vec<String>, BoxError> {
        Err("this session can't list its keys".into())
    }
}

#[test]
fn index_backend_runs_the_same_scenario() {
    let session = Unlistable(others().into_iter().collect());
    let after = scenario(session.clone());
    assert_eq!(after, session, "clear() also removes the index itself");
}

#[test]
fn index_lives_under_a_key_no_job_can_have() {
    let mut session = Unlistable::default();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    jobs.store("b", &job("b")).unwrap();
    jobs.store("a", &job("a")).unwrap();
    jobs.store("a", &job("a")).unwrap();
    assert_eq!(session.0[&key::index_key("job")], json!(["b", "a"]));
    assert_eq!(key::index_key("job"), "__jobsess_index.job");
    assert!(key::validate_prefix("__jobsess_index.job").is_err());
    // the prefix "__jobsess" can't exist either, so no job key equals it
    assert!(key::validate_prefix("__jobsess").is_err());
}

#[test]
fn index_drops_ids_whose_job_is_gone() {
    let mut session = Unlistable::default();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    jobs.store("a", &job("a")).unwrap();
    jobs.store("b", &job("b")).unwrap();
    // another piece of code removes job b behind the index's back
    session.0.remove("job_b");
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    assert_eq!(jobs.ids().unwrap(), ["a"]);
    assert_eq!(session.0[&key::index_key("job")], json!(["a"]));
}

#[test]
fn corrupt_index_is_a_named_error_and_jobs_still_load() {
    let mut session = Unlistable::default();
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    jobs.store("a", &job("a")).unwrap();
    session
        .0
        .insert(key::index_key("job"), json!({"not": "a list"}));
    let mut jobs = JobSession::<Job, _>::new(&mut session);
    let err = jobs.ids().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("__jobsess_index.job as job id index"),
        "{err}"
    );
    assert_eq!(jobs.load("a").unwrap(), Some(job("a")));
}

#[test]
fn two_prefixes_have_two_indexes() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[job_metadata(prefix = "export")]
    struct Export {
        format: String,
    }
    let mut session = Unlistable::default();
    JobSession::<Job, _>::new(&mut session)
        .store("a", &job("a"))
        .unwrap();
    JobSession::<Export, _>::new(&mut session)
        .store(
            "a",
            &Export {
                format: "pdf".into(),
            },
        )
        .unwrap();
    assert_eq!(
        JobSession::<Export, _>::new(&mut session).clear().unwrap(),
        1
    );
    assert_eq!(
        JobSession::<Job, _>::new(&mut session).ids().unwrap(),
        ["a"]
    );
}

/// A backend whose every call fails, like a session store that went away.
struct Broken;

impl SessionBackend for Broken {
    const LISTS_KEYS: bool = true;

    fn get(&self, _: &str) -> Result<Option<Cow<'_, Value>>, BoxError> {
        Err("connection refused".into())
    }
    fn insert(&mut self, _: &str, _: Value) -> Result<bool, BoxError> {
        Err("connection refused".into())
    }
    fn remove(&mut self, _: &str) -> Result<bool, BoxError> {
        Err("connection refused".into())
    }
    fn keys_with_prefix(&self, _: &str) -> Result<Vec<String>, BoxError> {
        Err("connection refused".into())
    }
}

#[test]
fn backend_failures_name_the_operation_and_key() {
    let mut jobs = JobSession::<Job, _>::new(Broken);
    assert_eq!(
        jobs.load("a").unwrap_err().to_string(),
        "session backend failed to read job_a: connection refused"
    );
    assert_eq!(
        jobs.store("a", &job("a")).unwrap_err().to_string(),
        "session backend failed to write job_a: connection refused"
    );
    assert_eq!(
        jobs.delete("a").unwrap_err().to_string(),
        "session backend failed to remove job_a: connection refused"
    );
    assert_eq!(
        jobs.ids().unwrap_err().to_string(),
        "session backend failed to list job_: connection refused"
    );
}
