//! Sessions kept in a cookie: how large actix-session's
//! `CookieSessionStore` makes the cookie ([`CookieSecurity`]), and
//! [`CookieSession`], a [`Measure`] of it for a [`Budget`](crate::backend::Budget)
//! of [`COOKIE_BUDGET`].

use actix_session::Session;
use serde_json::Value;

use crate::backend::{Forward, Measure};
use crate::error::{Error, Op, Result};

/// A budget, in bytes of cookie value, that keeps a `CookieSessionStore`
/// cookie under browsers' 4096-byte limit for a cookie's name and value
/// together, with room for a name of up to 95 bytes. Use it with a
/// [`CookieSession`] (the [`Jobs`](super::Jobs) extractor does, given
/// [`JobsConfig::cookie`](super::JobsConfig::cookie)).
///
/// ```
/// assert!(jobsess::actix::COOKIE_BUDGET + "id=".len() < 4096);
/// ```
pub const COOKIE_BUDGET: usize = 4000;

/// How actix-session's `CookieSessionStore` protects its cookie
/// (`CookieContentSecurity`), which decides how large the cookie is for a
/// given session.
///
/// ```
/// use jobsess::actix::CookieSecurity;
/// let json = r#"{"job_a":"{\"file\":\"a.mp3\"}"}"#;
/// // a signed cookie percent-encodes the JSON; a private one base64-encodes it, encrypted
/// assert!(CookieSecurity::Signed.value_len(json) > json.len() + 44);
/// assert!(CookieSecurity::Private.value_len(json) >= (json.len() + 28) * 4 / 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieSecurity {
    /// Encrypted (the default of actix-session): the value is the base64 of
    /// a nonce, the encrypted JSON and a tag.
    #[default]
    Private,
    /// Signed: the value is a base64 HMAC before the JSON itself, and the
    /// JSON is percent-encoded in the `Set-Cookie` header (`{`, `"`, `:`...
    /// each take three bytes).
    Signed,
}

impl CookieSecurity {
    /// An upper bound of the length of the cookie value that holds the
    /// session JSON `json`, as it goes out in the `Set-Cookie` header.
    ///
    /// The encoding is exact; what can't be known before the cookie is made
    /// is how many of the random base64 characters are `/` (percent-encoded
    /// as three bytes), for which it allows twice the expected number, plus
    /// the padding.
    ///
    /// ```
    /// # use jobsess::actix::CookieSecurity;
    /// assert_eq!(CookieSecurity::Signed.value_len("ab"), 44 + 44 / 16 + 8 + 2);
    /// ```
    #[must_use]
    pub fn value_len(self, json: &str) -> usize {
        fn base64_sent(bytes: usize) -> usize {
            let chars = bytes.div_ceil(3) * 4;
            chars + chars / 16 + 8
        }
        match self {
            CookieSecurity::Private => base64_sent(12 + json.len() + 16),
            CookieSecurity::Signed => {
                let digest = 44 + 44 / 16 + 8;
                digest + json.bytes().map(percent_encoded_len).sum::<usize>()
            }
        }
    }
}

/// The bytes `byte` takes in a percent-encoded cookie value (the `cookie`
/// crate's encoding set: controls, non-ASCII, and ` "#%(),/:;<=>?@[\]^`{|}`).
fn percent_encoded_len(byte: u8) -> usize {
    let escaped =
        byte.is_ascii_control() || !byte.is_ascii() || b" \"#%(),/:;<=>?@[\\]^`{|}".contains(&byte);
    if escaped { 3 } else { 1 }
}

/// An actix-session `Session` whose store keeps it in a cookie: a
/// [`Measure`] of the cookie value it makes, for a
/// [`Budget`](crate::backend::Budget) of [`COOKIE_BUDGET`].
///
/// ```
/// use actix_session::SessionExt;
/// use jobsess::actix::{COOKIE_BUDGET, CookieSecurity, CookieSession};
/// use jobsess::backend::Budget;
/// use jobsess::{JobSession, UntypedJob};
///
/// let req = actix_web::test::TestRequest::default().to_http_request();
/// let session = CookieSession::new(req.get_session(), CookieSecurity::Signed);
/// let jobs = JobSession::<UntypedJob, _>::new(Budget::new(session, COOKIE_BUDGET));
/// # let _ = jobs;
/// ```
#[derive(Clone)]
pub struct CookieSession {
    session: Session,
    security: CookieSecurity,
}

impl CookieSession {
    /// `session`, kept in a cookie protected as `security` says.
    ///
    /// ```
    /// # use actix_session::SessionExt;
    /// # use jobsess::actix::{CookieSecurity, CookieSession};
    /// # let req = actix_web::test::TestRequest::default().to_http_request();
    /// let session = CookieSession::new(req.get_session(), CookieSecurity::Private);
    /// # let _ = session;
    /// ```
    #[must_use]
    pub fn new(session: Session, security: CookieSecurity) -> Self {
        CookieSession { session, security }
    }
}

/// Every call goes to the session inside.
impl Forward for CookieSession {
    type Inner = Session;

    fn inner(&self) -> &Session {
        &self.session
    }

    fn inner_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

/// The cookie value the store would make of the session's state: the JSON
/// object of the entries' JSON texts, protected as configured.
impl Measure for CookieSession {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        let mut state = self.session.entries().clone();
        match value {
            Some(value) => state.insert(key.to_owned(), value.to_string()),
            None => state.remove(key),
        };
        let json =
            serde_json::to_string(&state).map_err(|err| Error::backend(Op::Measure, key, err))?;
        Ok(self.security.value_len(&json))
    }
}
