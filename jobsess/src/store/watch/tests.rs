//! Unit tests of the watchers' shared state: message order and the
//! stale-read rule.

use super::known::*;
use serde_json::Value;
use serde_json::json;
use std::sync::Arc;

fn job_at(known: &Known) -> Option<(u64, Value)> {
    match known.now().state {
        State::Job { revision, job } => Some((revision, (*job).clone())),
        _ => None,
    }
}

fn field(revision: u64, name: &str, value: Option<Value>, aliases: &[&str]) -> Note {
    Note::Field {
        revision,
        name: name.to_owned(),
        value,
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// Messages in revision order are applied; one already seen is
/// ignored; a gap, a large job or an unknown state asks for a read.
#[test]
fn messages_apply_in_revision_order_and_gaps_ask_for_a_read() {
    let known = Known::new();
    assert!(
        !known.apply(&field(1, "p", Some(json!(1)), &[])),
        "nothing known yet"
    );
    assert!(
        !known.apply(&field(0, "p", Some(json!(1)), &[])),
        "a revision 0, nothing known"
    );
    assert!(known.apply(&Note::Whole {
        revision: 3,
        job: Arc::new(json!({ "p": 0, "old": 7 })),
    }));
    let mut states = known.states.subscribe();
    assert!(known.apply(&field(4, "p", Some(json!(5)), &["old"])));
    assert_eq!(job_at(&known), Some((4, json!({ "p": 5 }))));
    assert_eq!(states.try_recv().unwrap().number, known.now().number);
    // already seen: no new state
    assert!(known.apply(&field(4, "p", Some(json!(6)), &[])));
    assert!(known.apply(&field(2, "p", Some(json!(6)), &[])));
    assert!(states.try_recv().is_err());
    // a removed field
    assert!(known.apply(&field(5, "p", None, &[])));
    assert_eq!(job_at(&known), Some((5, json!({}))));
    // a gap, and a job too large for its message
    assert!(!known.apply(&field(7, "p", Some(json!(1)), &[])));
    assert!(!known.apply(&Note::Changed { revision: 6 }));
    assert_eq!(job_at(&known), Some((5, json!({}))));
    assert!(known.apply(&Note::Deleted));
    assert!(matches!(known.now().state, State::Deleted));
}

/// A read is taken only if the state is still the one it was made
/// against: a message applied in between may be newer than the read.
#[test]
fn a_read_is_taken_only_against_the_state_it_was_made_after() {
    let known = Known::new();
    let since = known.now().number;
    known.apply(&Note::Whole {
        revision: 2,
        job: Arc::new(json!({ "p": 2 })),
    });
    let mut called = false;
    known.change_since(Some(since), |_| {
        called = true;
        true
    });
    assert!(!called, "the state moved on: the read is left");
    assert_eq!(job_at(&known), Some((2, json!({ "p": 2 }))));
    let since = known.now().number;
    let after = known.change_since(Some(since), |state| {
        *state = State::Job {
            revision: 1,
            job: Arc::new(json!({ "p": 1 })),
        };
        true
    });
    assert_eq!(after.number, since + 1);
    // taken even with a lower revision: the job was made again
    assert_eq!(job_at(&known), Some((1, json!({ "p": 1 }))));
}
