//! [`Budget`]: a size limit around a backend that can measure itself.

use serde_json::Value;

use super::{Forward, SessionBackend};
use crate::error::{Error, Result};

/// A backend that can tell its own size, for a [`Budget`].
///
/// ```
/// use jobsess::backend::Measure;
/// use serde_json::json;
/// let mut session = std::collections::HashMap::new();
/// session.insert("a".to_owned(), json!(1));
/// assert_eq!(session.size_with("b", Some(&json!(2))).unwrap(), r#"{"a":1,"b":2}"#.len());
/// ```
pub trait Measure {
    /// The size in bytes the session would take where it is kept (as JSON,
    /// as a cookie...) with `value` under `key`, or without `key` for `None`.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`Op::Measure`](crate::Op::Measure) if the backend fails.
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize>;
}

/// A size limit around a backend that can measure itself: a write that
/// would make the session larger than the budget fails with
/// [`Error::OverBudget`] before anything is written.
///
/// It is a sync backend, so it also works shared between tasks as
/// `Mutex<Budget<B>>`. For sessions that ride in a cookie see
/// `jobsess::actix::COOKIE_BUDGET`.
///
/// ```
/// use jobsess::{JobSession, UntypedJob, backend::Budget};
/// let mut session = std::collections::HashMap::new();
/// let mut jobs = JobSession::<UntypedJob, _>::new(Budget::new(&mut session, 64));
/// let big = serde_json::json!({ "notes": "x".repeat(100) });
/// let err = jobs.store("a", big.as_object().unwrap()).unwrap_err();
/// assert!(err.to_string().contains("over its budget of 64 bytes"));
/// assert!(session.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Budget<B> {
    inner: B,
    bytes: usize,
}

impl<B> Budget<B> {
    /// `inner`, limited to `bytes`; `usize::MAX` is no limit, and then
    /// nothing is measured.
    ///
    /// ```
    /// # use jobsess::backend::Budget;
    /// let session = Budget::new(std::collections::HashMap::<String, serde_json::Value>::new(), 2900);
    /// assert_eq!(session.bytes(), 2900);
    /// ```
    pub fn new(inner: B, bytes: usize) -> Self {
        Budget { inner, bytes }
    }

    /// The budget, in bytes.
    ///
    /// ```
    /// # use jobsess::backend::Budget;
    /// assert_eq!(Budget::new((), 10).bytes(), 10);
    /// ```
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The backend inside.
    ///
    /// ```
    /// # use jobsess::backend::Budget;
    /// assert!(Budget::new(std::collections::HashMap::<String, serde_json::Value>::new(), 10).into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> B {
        self.inner
    }
}

/// Every write that can grow the session goes through [`Forward`]'s check,
/// which measures the session with the new value before anything is
/// written; with no limit, writes go straight through.
impl<B: SessionBackend + Measure> Forward for Budget<B> {
    type Inner = B;

    fn inner(&self) -> &B {
        &self.inner
    }

    fn inner_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    fn checks_writes(&self) -> bool {
        self.bytes != usize::MAX
    }

    fn check_write(&self, key: &str, value: &Value) -> Result<()> {
        let size = self.inner.size_with(key, Some(value))?;
        if size > self.bytes {
            return Err(Error::OverBudget {
                key: key.to_owned(),
                size,
                budget: self.bytes,
            });
        }
        Ok(())
    }
}

impl<B: Measure> Measure for Budget<B> {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        self.inner.size_with(key, value)
    }
}

impl<B: Measure + ?Sized> Measure for &mut B {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        (**self).size_with(key, value)
    }
}
