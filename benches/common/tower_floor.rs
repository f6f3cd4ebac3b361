//! The tower-sessions floors: what a hand-written handler does on a
//! `Session`, building its key each time. Shared by
//! `benches/tower_sessions.rs` (timed) and `bench/instructions.rs`
//! (counted).

use std::hint::black_box;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

/// `store` + `load` keeping a list of ids under one key, as a store that
/// can't list its keys needs (what jobsess does for `ids()`): the job,
/// the list read and the id added if it is missing, then the job read.
pub async fn store_get_with_id_list<T: Serialize + DeserializeOwned>(
    session: &Session,
    id: &str,
    job: &T,
) {
    session
        .insert(&format!("job_{id}"), job)
        .await
        .expect("inserts");
    let mut ids: Vec<String> = session
        .get("__index.job")
        .await
        .expect("gets")
        .unwrap_or_default();
    if !ids.iter().any(|listed| listed == id) {
        ids.push(id.to_owned());
        session.insert("__index.job", &ids).await.expect("inserts");
    }
    let back: Option<T> = session.get(&format!("job_{id}")).await.expect("gets");
    black_box(back);
}

/// `load`: `Session::get::<T>`.
pub async fn get<T: DeserializeOwned>(session: &Session, id: &str) {
    let back: Option<T> = session.get(&format!("job_{id}")).await.expect("gets");
    black_box(back);
}

/// `store_field`: the stored job read, one member patched, written back.
pub async fn store_field(session: &Session, id: &str, name: &str, value: &impl Serialize) {
    let key = format!("job_{id}");
    let mut stored = session
        .get_value(&key)
        .await
        .expect("gets")
        .expect("present");
    let value = serde_json::to_value(value).expect("encodes");
    stored
        .as_object_mut()
        .expect("an object")
        .insert(name.to_owned(), value);
    black_box(session.insert_value(&key, stored).await.expect("inserts"));
}
