//! What the engines that keep one table row per job (PostgreSQL, SQLite)
//! share: how a session key becomes the row's `(prefix, id)`, which
//! listings the primary key serves, and the sweeper task of expired rows.

use std::time::Duration;

use crate::error::{Error, Op, Result};

/// A session key as a table keeps it: `prefix_id`, split at the first
/// `_` (a prefix has none).
pub(crate) fn split(key: &str) -> Option<(&str, &str)> {
    key.split_once('_')
}

/// The key of a write to `store` (as errors name it), split; a key with
/// no `_` is no job key.
pub(crate) fn split_for_write<'k>(store: &'static str, key: &'k str) -> Result<(&'k str, &'k str)> {
    split(key).ok_or_else(|| {
        Error::store_backend(
            store,
            Op::Write,
            key,
            format!("{store} keeps keys of the form prefix_id only"),
        )
    })
}

/// The prefix of a listing of one prefix's jobs (`prefix_`, as the handle
/// asks), which the primary key serves; `None` for any other start.
pub(crate) fn one_prefix(start: &str) -> Option<&str> {
    start
        .strip_suffix('_')
        .filter(|prefix| !prefix.contains('_'))
}

/// Why a whole write of version `known` (`None`: unversioned) to `key`
/// wrote nothing: the live job there is of the newer version `found`, or
/// (no newer version found: that job was removed or replaced since) a
/// conflict, and the write is tried again.
pub(crate) fn refused(key: &str, known: Option<u32>, found: Option<u64>) -> Error {
    match (known, found) {
        (Some(known), Some(found)) if found > u64::from(known) => Error::NewerVersion {
            key: key.to_owned(),
            found: u32::try_from(found).unwrap_or(u32::MAX),
            known,
        },
        _ => Error::Conflict {
            key: key.to_owned(),
            attempts: 1,
        },
    }
}

/// Starts a task that runs `sweep` every `period`, logging a failed round
/// (the next round tries again); it runs until its handle is aborted or
/// the runtime ends.
pub(crate) fn spawn_sweeper<F, Fut>(period: Duration, mut sweep: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64>> + Send,
{
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            if let Err(err) = sweep().await {
                tracing::warn!("jobsess: sweeping expired jobs failed: {err}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_at_the_first_underscore() {
        assert_eq!(split("export_job_1"), Some(("export", "job_1")));
        assert_eq!(split("export"), None);
        let err = split_for_write("the SQLite job store", "nokey").unwrap_err();
        assert!(err.to_string().contains("prefix_id"), "{err}");
        assert_eq!(one_prefix("export_"), Some("export"));
        assert_eq!(one_prefix("export_j"), None);
        assert_eq!(one_prefix("a_b_"), None);
    }
}
