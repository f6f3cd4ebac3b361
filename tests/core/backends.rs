//! The same behaviour on every embedded backend, and backend failures.
//! The id index of stores that can't list their keys is in `tests/index.rs`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use jobsess::{Error, JobMetadata, JobSession, Op, Result, SessionBackend};
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

/// A backend whose every call fails, like a session store that went away.
struct Broken;

impl SessionBackend for Broken {
    fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>> {
        Err(Error::backend(Op::Read, key, "connection refused"))
    }
    fn insert(&mut self, key: &str, _: Value) -> Result<bool> {
        Err(Error::backend(Op::Write, key, "connection refused"))
    }
    fn remove(&mut self, key: &str) -> Result<bool> {
        Err(Error::backend(Op::Remove, key, "connection refused"))
    }
    fn keys_with_prefix(&self, start: &str) -> Result<Vec<String>> {
        Err(Error::backend(Op::List, start, "connection refused"))
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
