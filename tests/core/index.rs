//! The id index that [`Indexed`] keeps for stores that can't list their
//! keys (tower-sessions): the notebook's flow, and every way an index can
//! go wrong, none of which may lose a job or stop the others.

use std::collections::HashMap;
use std::sync::Mutex;

use jobsess::{AsyncJobSession, AsyncKeyValue, Error, Indexed, JobMetadata, Op, Result, key};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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

/// A store that can't list its keys, like tower-sessions', whose index
/// writes can be made to fail.
#[derive(Default)]
struct Opaque {
    map: Mutex<HashMap<String, Value>>,
    fail_index_writes: bool,
}

impl Opaque {
    fn with(entries: &[(&str, Value)]) -> Self {
        let map = entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        Opaque {
            map: Mutex::new(map),
            fail_index_writes: false,
        }
    }

    fn value(&self, key: &str) -> Option<Value> {
        self.map.lock().unwrap().get(key).cloned()
    }

    fn set(&self, key: &str, value: Value) {
        self.map.lock().unwrap().insert(key.to_owned(), value);
    }
}

impl AsyncKeyValue for Opaque {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        Ok(self.value(key))
    }

    async fn insert(&self, key: &str, value: Value) -> Result<bool> {
        if self.fail_index_writes && key.starts_with(key::INDEX_KEY_START) {
            return Err(Error::backend(Op::Write, key, "store full"));
        }
        Ok(self
            .map
            .lock()
            .unwrap()
            .insert(key.to_owned(), value)
            .is_some())
    }

    async fn remove(&self, key: &str) -> Result<bool> {
        Ok(self.map.lock().unwrap().remove(key).is_some())
    }
}

fn jobs(store: &Opaque) -> AsyncJobSession<Job, Indexed<&Opaque>> {
    AsyncJobSession::new(Indexed::new(store))
}

#[tokio::test]
async fn the_notebook_flow_keeps_other_keys() {
    let store = Opaque::with(&[
        ("user", json!("ann")),
        ("job", json!(1)),
        ("jobs_x", json!(2)),
    ]);
    let jobs = jobs(&store);
    jobs.store("job-2", &job("b.mp3")).await.unwrap();
    jobs.store("job-1", &job("a.mp3")).await.unwrap();
    jobs.store("job-3", &job("c.mp3")).await.unwrap();
    jobs.store("job-1", &job("a2.mp3")).await.unwrap();
    jobs.store_field("job-2", Job::PROGRESS, &50).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["job-1", "job-2", "job-3"]);
    assert_eq!(jobs.load("job-1").await.unwrap(), Some(job("a2.mp3")));
    assert!(jobs.delete("job-3").await.unwrap());
    assert!(!jobs.delete("job-3").await.unwrap());
    assert_eq!(jobs.ids().await.unwrap(), ["job-1", "job-2"]);
    assert_eq!(jobs.entries().await.unwrap().len(), 2);
    assert_eq!(jobs.clear().await.unwrap(), 2);
    assert!(jobs.ids().await.unwrap().is_empty());
    let left: Vec<String> = {
        let mut keys: Vec<String> = store.map.lock().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        left,
        ["job", "jobs_x", "user"],
        "clear() also removes the index"
    );
}

#[tokio::test]
async fn the_index_lives_under_a_key_no_job_can_have() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("b", &job("b")).await.unwrap();
    jobs.store("a", &job("a")).await.unwrap();
    jobs.store("a", &job("a")).await.unwrap();
    assert_eq!(store.value("__jobsess_index.job"), Some(json!("b\na")));
    assert!(key::validate_prefix("__jobsess_index.job").is_err());
    assert!(key::validate_prefix("__jobsess").is_err());
}

#[tokio::test]
async fn a_job_the_index_lost_is_listed_again_when_stored() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("a", &job("a")).await.unwrap();
    jobs.store("b", &job("b")).await.unwrap();
    // a concurrent request's save wrote an index without b
    store.set("__jobsess_index.job", json!(["a"]));
    assert_eq!(jobs.ids().await.unwrap(), ["a"]);
    // b exists, so this store replaces it: the index still learns of it
    jobs.store("b", &job("b2")).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["a", "b"]);
}

#[tokio::test]
async fn ids_whose_job_is_gone_are_dropped() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("a", &job("a")).await.unwrap();
    jobs.store("b", &job("b")).await.unwrap();
    store.map.lock().unwrap().remove("job_b");
    assert_eq!(jobs.ids().await.unwrap(), ["a"]);
    assert_eq!(store.value("__jobsess_index.job"), Some(json!("a")));
}

#[tokio::test]
async fn a_corrupt_index_fails_nothing_and_is_rebuilt() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("a", &job("a")).await.unwrap();
    store.set("__jobsess_index.job", json!({"not": "a list"}));
    // listing and clearing don't fail; what the index can't say is not listed
    assert!(jobs.ids().await.unwrap().is_empty());
    assert_eq!(jobs.load("a").await.unwrap(), Some(job("a")));
    // every store rebuilds it
    jobs.store("a", &job("a2")).await.unwrap();
    jobs.store("b", &job("b")).await.unwrap();
    assert_eq!(jobs.ids().await.unwrap(), ["a", "b"]);
    // entries that are not ids are dropped, the rest kept
    store.set("__jobsess_index.job", json!(["a", 7, null, "b"]));
    assert_eq!(jobs.ids().await.unwrap(), ["a", "b"]);
    assert_eq!(jobs.clear().await.unwrap(), 2);
}

#[tokio::test]
async fn an_index_an_earlier_release_wrote_is_read() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("a", &job("a")).await.unwrap();
    jobs.store("b", &job("b")).await.unwrap();
    // earlier releases kept the index as a JSON list
    store.set("__jobsess_index.job", json!(["b", "a"]));
    assert_eq!(jobs.ids().await.unwrap(), ["a", "b"]);
    jobs.store("c", &job("c")).await.unwrap();
    assert_eq!(store.value("__jobsess_index.job"), Some(json!("b\na\nc")));
}

#[tokio::test]
async fn an_id_twice_in_the_index_is_listed_once() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("a", &job("a")).await.unwrap();
    store.set("__jobsess_index.job", json!(["a", "a", "a"]));
    assert_eq!(jobs.ids().await.unwrap(), ["a"]);
    assert_eq!(jobs.entries().await.unwrap().len(), 1);
}

#[tokio::test]
async fn ids_the_handle_would_reject_are_left_out_and_cleared() {
    let store = Opaque::default();
    let jobs = jobs(&store);
    jobs.store("a", &job("a")).await.unwrap();
    // other code wrote jobs under ids that `load` and `delete` reject
    store.set("job_", json!({}));
    store.set("job_bad\u{7}", json!({}));
    store.set("__jobsess_index.job", json!(["a", "", "bad\u{7}"]));
    let ids = jobs.ids().await.unwrap();
    assert_eq!(ids, ["a"]);
    for id in &ids {
        jobs.load(id).await.unwrap();
    }
    assert_eq!(jobs.clear().await.unwrap(), 3);
    assert!(store.value("job_").is_none() && store.value("job_bad\u{7}").is_none());
}

#[tokio::test]
async fn a_failed_index_write_says_the_job_is_stored() {
    let store = Opaque {
        fail_index_writes: true,
        ..Opaque::default()
    };
    let jobs = jobs(&store);
    let err = jobs.store("a", &job("a")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                op: Op::UpdateIndex,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "session backend failed to add to the id index (the job itself is stored) job_a: \
         session backend failed to write __jobsess_index.job: store full"
    );
    assert_eq!(jobs.load("a").await.unwrap(), Some(job("a")));
}

#[tokio::test]
async fn two_prefixes_have_two_indexes() {
    #[derive(Serialize, Deserialize, JobMetadata)]
    #[job_metadata(prefix = "export")]
    struct Export {
        format: String,
    }
    let store = Opaque::default();
    jobs(&store).store("a", &job("a")).await.unwrap();
    let exports = AsyncJobSession::<Export, _>::new(Indexed::new(&store));
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
    assert_eq!(jobs(&store).ids().await.unwrap(), ["a"]);
}

/// The index as other code or an earlier release left it (the list form,
/// with any strings: empty ones, ones holding `\n`, duplicates, ids whose
/// job is gone) and the jobs the session holds: after any sequence of
/// reads, `clear()` removes every job under the prefix that the index or
/// the session lists, exactly as a `clear()` with no reads before it does.
mod reads_never_change_what_clear_removes {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Read {
        Ids,
        Entries,
        Load(usize),
        Contains(usize),
    }

    fn read() -> impl Strategy<Value = Read> {
        prop_oneof![
            Just(Read::Ids),
            Just(Read::Entries),
            (0usize..8).prop_map(Read::Load),
            (0usize..8).prop_map(Read::Contains),
        ]
    }

    /// The session: an index in the list form and the jobs of some of its ids.
    fn session(listed: &[String], stored: &[bool]) -> Opaque {
        let mut entries = vec![(
            key::index_key("job"),
            Value::Array(listed.iter().cloned().map(Value::String).collect()),
        )];
        for (id, stored) in listed.iter().zip(stored) {
            if *stored {
                entries.push((format!("job_{id}"), json!({ "file": id, "progress": 1 })));
            }
        }
        let entries: Vec<(&str, Value)> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        Opaque::with(&entries)
    }

    /// Job keys left in the store after the clear.
    fn jobs_left(store: &Opaque) -> Vec<String> {
        let mut left: Vec<String> = store
            .map
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("job_"))
            .cloned()
            .collect();
        left.sort();
        left
    }

    proptest! {
        #[test]
        fn reads_then_clear(
            listed in proptest::collection::vec(
                prop_oneof![Just(String::new()), Just("a\nb".to_owned()), "[a-c]{1,2}"], 0..6),
            stored in proptest::collection::vec(any::<bool>(), 6),
            reads in proptest::collection::vec(read(), 0..6),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                // no reads before the clear
                let plain = session(&listed, &stored);
                let jobs = AsyncJobSession::<Job, _>::new(Indexed::new(&plain));
                let removed_plain = jobs.clear().await.unwrap();

                let after_reads = session(&listed, &stored);
                let jobs = AsyncJobSession::<Job, _>::new(Indexed::new(&after_reads));
                let ids = || listed.iter().cloned().chain(["a".to_owned()]);
                for read in &reads {
                    match read {
                        Read::Ids => drop(jobs.ids().await),
                        Read::Entries => drop(jobs.entries().await),
                        Read::Load(i) => {
                            let id = ids().nth(*i % (listed.len() + 1)).unwrap();
                            drop(jobs.load(&id).await);
                        }
                        Read::Contains(i) => {
                            let id = ids().nth(*i % (listed.len() + 1)).unwrap();
                            drop(jobs.contains(&id).await);
                        }
                    }
                }
                let removed = jobs.clear().await.unwrap();
                prop_assert_eq!(removed, removed_plain);
                prop_assert_eq!(jobs_left(&after_reads), Vec::<String>::new());
                prop_assert_eq!(jobs_left(&plain), Vec::<String>::new());
                Ok(())
            })?;
        }
    }

    #[tokio::test]
    async fn the_issue_case() {
        // the index lists "" and a gone id, and `job_` is present
        let store = session(&[String::new(), "gone".into()], &[true, false]);
        let jobs = AsyncJobSession::<Job, _>::new(Indexed::new(&store));
        jobs.ids().await.unwrap();
        assert_eq!(jobs.clear().await.unwrap(), 1);
        assert_eq!(jobs_left(&store), Vec::<String>::new());
    }
}
