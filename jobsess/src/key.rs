//! The key scheme: `{prefix}_{job_id}`, and the rules for prefixes and ids.
//!
//! A prefix is 1 to [`MAX_PREFIX_LEN`] ASCII letters, digits or `-`; it can't
//! hold the separator `_`, so the keys of prefix `job` (`job_…`) never start
//! like the keys of prefix `job_x` or any other prefix. A job id is 1 to
//! [`MAX_JOB_ID_LEN`] bytes without control characters; it may contain `_`,
//! since the first `_` of a key always ends the prefix.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// The separator between prefix and job id in a session key.
///
/// ```
/// assert_eq!(jobsess::key::job_key("job", "a").unwrap(), format!("job{}a", jobsess::key::SEPARATOR));
/// ```
pub const SEPARATOR: char = '_';

/// The longest accepted prefix, in bytes.
///
/// ```
/// use jobsess::key::{MAX_PREFIX_LEN, validate_prefix};
/// assert!(validate_prefix(&"p".repeat(MAX_PREFIX_LEN)).is_ok());
/// assert!(validate_prefix(&"p".repeat(MAX_PREFIX_LEN + 1)).is_err());
/// ```
pub const MAX_PREFIX_LEN: usize = 64;

/// The longest accepted job id, in bytes.
///
/// ```
/// use jobsess::key::{MAX_JOB_ID_LEN, validate_job_id};
/// assert!(validate_job_id(&"i".repeat(MAX_JOB_ID_LEN)).is_ok());
/// assert!(validate_job_id(&"i".repeat(MAX_JOB_ID_LEN + 1)).is_err());
/// ```
pub const MAX_JOB_ID_LEN: usize = 256;

/// The start of the index keys kept on backends that can't list their keys.
///
/// The index of prefix `job` lives at `__jobsess_index.job`. No job key can
/// equal it: job keys start with their prefix, and prefixes never start with `_`.
///
/// ```
/// use jobsess::key::{INDEX_KEY_START, index_key};
/// assert!(index_key("job").starts_with(INDEX_KEY_START));
/// ```
pub const INDEX_KEY_START: &str = "__jobsess_index.";

/// Checks a prefix against the rules of this module.
///
/// ```
/// assert!(jobsess::key::validate_prefix("transcription").is_ok());
/// assert!(jobsess::key::validate_prefix("job_x").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidPrefix`] naming the rule that was broken.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    let reason = if prefix.is_empty() {
        "it is empty"
    } else if prefix.len() > MAX_PREFIX_LEN {
        "it is longer than 64 bytes"
    } else if prefix.contains(SEPARATOR) {
        "it contains the separator `_`"
    } else if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        "only ASCII letters, digits and `-` are allowed"
    } else {
        return Ok(());
    };
    Err(Error::InvalidPrefix {
        prefix: shorten(prefix),
        reason,
    })
}

/// Checks a job id against the rules of this module.
///
/// ```
/// assert!(jobsess::key::validate_job_id("job-123").is_ok());
/// assert!(jobsess::key::validate_job_id("").is_err());
/// assert!(jobsess::key::validate_job_id("a\nb").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidJobId`] naming the rule that was broken.
pub fn validate_job_id(id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_JOB_ID_LEN {
        "it is longer than 256 bytes"
    } else if id.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(Error::InvalidJobId {
        id: shorten(id),
        reason,
    })
}

/// Builds the session key of a job: `{prefix}_{id}`, after checking the id.
/// The prefix is taken as already checked.
///
/// ```
/// assert_eq!(jobsess::key::job_key("job", "job-123").unwrap(), "job_job-123");
/// ```
///
/// # Errors
/// [`Error::InvalidJobId`] for an id that breaks the rules.
pub fn job_key(prefix: &str, id: &str) -> Result<String> {
    validate_job_id(id)?;
    let mut key = String::with_capacity(prefix.len() + 1 + id.len());
    key.push_str(prefix);
    key.push(SEPARATOR);
    key.push_str(id);
    Ok(key)
}

/// The start shared by every key of `prefix`: `{prefix}_`.
///
/// ```
/// assert_eq!(jobsess::key::key_start("job"), "job_");
/// ```
#[must_use]
pub fn key_start(prefix: &str) -> String {
    let mut start = String::with_capacity(prefix.len() + 1);
    start.push_str(prefix);
    start.push(SEPARATOR);
    start
}

/// The key of the id index of `prefix`, on backends that can't list keys.
///
/// ```
/// assert_eq!(jobsess::key::index_key("job"), "__jobsess_index.job");
/// ```
#[must_use]
pub fn index_key(prefix: &str) -> String {
    let mut key = String::with_capacity(INDEX_KEY_START.len() + prefix.len());
    key.push_str(INDEX_KEY_START);
    key.push_str(prefix);
    key
}

/// The keys of one prefix; both handles build every key through it.
/// The prefix and id of a job key, if `key` is one (its prefix follows the
/// rules; the id is as written).
pub(crate) fn split_job_key(key: &str) -> Option<(&str, &str)> {
    let (prefix, id) = key.split_once(SEPARATOR)?;
    validate_prefix(prefix).ok()?;
    Some((prefix, id))
}

#[derive(Clone, Debug)]
pub(crate) struct KeySpace {
    prefix: Cow<'static, str>,
}

impl KeySpace {
    /// The key space of a prefix that is known to be valid (a derived one).
    pub(crate) const fn of(prefix: &'static str) -> Self {
        KeySpace {
            prefix: Cow::Borrowed(prefix),
        }
    }

    /// The key space of a prefix given at run time, after checking it.
    pub(crate) fn checked(prefix: impl Into<Cow<'static, str>>) -> Result<Self> {
        let prefix = prefix.into();
        validate_prefix(&prefix)?;
        Ok(KeySpace { prefix })
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key of job `id`, after checking the id.
    pub(crate) fn job(&self, id: &str) -> Result<String> {
        job_key(&self.prefix, id)
    }

    /// `{prefix}_`
    pub(crate) fn start(&self) -> String {
        key_start(&self.prefix)
    }
}

/// Cuts hostile input to a length fit for an error message.
fn shorten(s: &str) -> String {
    const KEEP: usize = 80;
    if s.len() <= KEEP {
        return s.to_owned();
    }
    let mut end = KEEP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        for ok in ["job", "transcription", "a", "A-9", &"x".repeat(64)] {
            assert!(validate_prefix(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("job_x", "separator"),
            ("jöb", "ASCII"),
            ("a b", "ASCII"),
            ("a.b", "ASCII"),
            (&"x".repeat(65), "longer"),
        ] {
            let err = validate_prefix(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn ids() {
        for ok in ["job-123", "a_b", "ü", "with space", &"x".repeat(256)] {
            assert!(validate_job_id(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("a\0b", "control"),
            ("a\u{7f}", "control"),
            ("tab\t", "control"),
            (&"x".repeat(257), "longer"),
        ] {
            let err = validate_job_id(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn hostile_ids_are_cut_in_messages() {
        let long = "é".repeat(300);
        let err = validate_job_id(&long).unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
        assert!(err.contains("600 bytes"), "{err}");
    }

    #[test]
    fn keys() {
        assert_eq!(job_key("job", "job-123").unwrap(), "job_job-123");
        assert_eq!(
            job_key("processing", "task-001").unwrap(),
            "processing_task-001"
        );
        assert!(job_key("job", "").is_err());
        assert!(!index_key("job").starts_with(&key_start("job")));
        assert!(validate_prefix(&index_key("job")).is_err());
    }
}
