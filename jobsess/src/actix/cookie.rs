//! Sessions kept in a cookie: how large actix-session's
//! `CookieSessionStore` makes the cookie ([`CookieSecurity`]), and
//! [`CookieSession`], a [`Measure`] of it for a [`Budget`](crate::backend::Budget)
//! of [`COOKIE_BUDGET`].

use actix_session::Session;
use serde_json::Value;

use crate::backend::{Forward, Measure};
use crate::error::Result;

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
#[non_exhaustive]
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
    /// The length of the cookie value that holds the session JSON `json`,
    /// as it goes out in the `Set-Cookie` header.
    ///
    /// The encoding is exact; what can't be known before the cookie is made
    /// is how many of its random base64 characters are `/`, which the
    /// header percent-encodes as three bytes: it counts the expected number
    /// (one in 64). For a cookie near the budget that is within 1 % of the
    /// length sent (within 0.5 % in 19 of 20 cookies).
    ///
    /// ```
    /// # use jobsess::actix::CookieSecurity;
    /// // a signed cookie: the digest's 44 base64 characters (its `=` sent as
    /// // `%3D`, and the `/` expected among the 43 others), then the JSON
    /// assert_eq!(CookieSecurity::Signed.value_len("ab"), 44 + 2 + 1 + 2);
    /// ```
    #[must_use]
    pub fn value_len(self, json: &str) -> usize {
        let percent: usize = json.bytes().map(percent_encoded_len).sum();
        self.value_len_of(json.len(), percent)
    }

    /// [`value_len`](Self::value_len) of a JSON text of `json` bytes whose
    /// percent-encoding takes `percent` bytes.
    fn value_len_of(self, json: usize, percent: usize) -> usize {
        match self {
            CookieSecurity::Private => base64_sent(12 + json + 16),
            CookieSecurity::Signed => base64_sent(32) + percent,
        }
    }
}

/// The length of the base64 (standard, padded) of `bytes` random bytes as
/// sent in a cookie: each `=` of the padding and each `/` percent-encoded
/// (the `/` counted at its expected rate, one character in 64).
fn base64_sent(bytes: usize) -> usize {
    let chars = bytes.div_ceil(3) * 4;
    let padding = (3 - bytes % 3) % 3;
    let data = chars - padding;
    chars + 2 * padding + (2 * data + 32) / 64
}

/// The bytes `byte` takes in a percent-encoded cookie value.
fn percent_encoded_len(byte: u8) -> usize {
    if percent_escaped(byte) { 3 } else { 1 }
}

/// What one byte of a string takes in the session's JSON text (as
/// serde_json escapes it) and in that text percent-encoded: a table, so
/// measuring a session costs one lookup per byte.
const STRING_BYTE_LEN: [(u8, u8); 256] = {
    let mut table = [(1, 1); 256];
    let mut byte = 0;
    while byte < 256 {
        #[allow(clippy::cast_possible_truncation)]
        let b = byte as u8;
        table[byte] = match b {
            // `\"` and `\\`: two characters, each percent-encoded
            b'"' | b'\\' => (2, 6),
            // `\n` and the like: a backslash (3) and a letter (1)
            b'\x08' | b'\x0c' | b'\n' | b'\r' | b'\t' => (2, 4),
            // `\u00XX`: a backslash (3) and five letters and digits
            0x00..=0x1f => (6, 8),
            _ => (1, if percent_escaped(b) { 3 } else { 1 }),
        };
        byte += 1;
    }
    table
};

/// Whether the cookie's percent-encoding escapes `byte` (the `cookie`
/// crate's set: controls, non-ASCII, and ` "#%(),/:;<=>?@[\]^`{|}`).
const fn percent_escaped(byte: u8) -> bool {
    byte.is_ascii_control()
        || !byte.is_ascii()
        || matches!(
            byte,
            b' ' | b'"'
                | b'#'
                | b'%'
                | b'('
                | b')'
                | b','
                | b'/'
                | b':'
                | b';'
                | b'<'
                | b'='
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'^'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
        )
}

/// The JSON text of the string `text` (quotes included, as serde_json
/// escapes it): its length in bytes, and that length percent-encoded.
fn json_string_len(text: &str) -> (usize, usize) {
    // the two quotes: `"` takes three bytes percent-encoded
    let (mut json, mut percent) = (2, 6);
    for byte in text.bytes() {
        let (j, p) = STRING_BYTE_LEN[usize::from(byte)];
        json += usize::from(j);
        percent += usize::from(p);
    }
    (json, percent)
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
/// object of the entries' JSON texts, protected as configured. Measured
/// without building it: one pass over the entries' bytes, with no copy of
/// the session and no JSON written but the new value's.
impl Measure for CookieSession {
    fn size_with(&self, key: &str, value: Option<&Value>) -> Result<usize> {
        let new = value.map(Value::to_string);
        let entries = self.session.entries();
        let (mut json, mut percent, mut count) = (0usize, 0usize, 0usize);
        let mut entry = |name: &str, text: &str| {
            let (kj, kp) = json_string_len(name);
            let (vj, vp) = json_string_len(text);
            // `"name":"text"`, the colon percent-encoded
            json += kj + 1 + vj;
            percent += kp + 3 + vp;
            count += 1;
        };
        for (name, text) in entries.iter() {
            if name != key {
                entry(name, text);
            }
        }
        if let Some(new) = &new {
            entry(key, new);
        }
        // `{`, `}` and a `,` between entries, each percent-encoded
        let commas = count.saturating_sub(1);
        json += 2 + commas;
        percent += 6 + 3 * commas;
        Ok(self.security.value_len_of(json, percent))
    }
}

impl CookieSession {
    /// The length of the cookie value the session would go out as now,
    /// as [`CookieSecurity::value_len`] estimates it.
    ///
    /// ```
    /// # use actix_session::SessionExt;
    /// # use jobsess::actix::{CookieSecurity, CookieSession};
    /// # let req = actix_web::test::TestRequest::default().to_http_request();
    /// let session = CookieSession::new(req.get_session(), CookieSecurity::Signed);
    /// assert_eq!(session.cookie_len()?, CookieSecurity::Signed.value_len("{}"));
    /// # Ok::<(), jobsess::Error>(())
    /// ```
    ///
    /// # Errors
    /// None today; a `Result` as [`Measure::size_with`] is.
    pub fn cookie_len(&self) -> Result<usize> {
        // no session key is empty: leaving "" out leaves the state as it is
        self.size_with("", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_session::SessionExt;

    /// The measure, made without writing the session's JSON, against the
    /// JSON actix-session writes: equal, for texts that JSON and the
    /// cookie's percent-encoding both escape.
    #[test]
    fn the_measure_equals_the_length_of_the_json_the_store_writes() {
        let texts = [
            "plain",
            "quote \" and backslash \\",
            "controls \n \t \r \u{8} \u{c} \u{1} \u{1f}",
            "é ✓ 日本",
            "cookie set: ;,=/%()<>@[]^`{|}#? and +",
            "",
        ];
        for security in [CookieSecurity::Signed, CookieSecurity::Private] {
            let req = actix_web::test::TestRequest::default().to_http_request();
            let session = req.get_session();
            let measured = CookieSession::new(session.clone(), security);
            for (i, text) in texts.iter().enumerate() {
                let key = format!("job_{i}{text}");
                let value = serde_json::json!({ "text": text, "n": i });
                let expected = {
                    let mut state = session.entries().clone();
                    state.insert(key.clone(), value.to_string());
                    security.value_len(&serde_json::to_string(&state).unwrap())
                };
                assert_eq!(
                    measured.size_with(&key, Some(&value)).unwrap(),
                    expected,
                    "{text:?}"
                );
                session.insert(&key, &value).unwrap();
                assert_eq!(measured.cookie_len().unwrap(), expected);
            }
            let removed = texts.len() - 1;
            let key = format!("job_{removed}");
            let expected = {
                let mut state = session.entries().clone();
                state.remove(&key);
                security.value_len(&serde_json::to_string(&state).unwrap())
            };
            assert_eq!(measured.size_with(&key, None).unwrap(), expected);
        }
    }
}
