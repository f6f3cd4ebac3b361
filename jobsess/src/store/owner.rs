//! Owners: the token a session keeps under [`OWNER_KEY`], the app's own
//! user id ([`OwnerId`]) in its place, and how concurrent first requests of
//! a session agree on one token (a claim in the store).

use serde_json::Value;

use super::JobStore;
use crate::AsyncSessionBackend;
use crate::error::{Error, Op, Result};

/// The session key under which the owner token is kept.
///
/// ```
/// assert_eq!(jobsess::store::OWNER_KEY, "__jobsess_owner");
/// ```
pub const OWNER_KEY: &str = "__jobsess_owner";

/// A new random owner token: 128 bits from the operating system, as hex.
///
/// # Errors
/// [`Error::Backend`] if the operating system has no randomness to give.
pub(crate) fn new_owner_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|err| Error::backend(Op::Write, OWNER_KEY, err.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `token` is an owner token: 16 to 128 letters, digits, `-`, `_`.
/// Every store keys its owners by it, so nothing else can name an owner.
pub(crate) fn is_token(token: &str) -> bool {
    (16..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The owner token kept in an asynchronous session (tower-sessions...)
/// under [`OWNER_KEY`], made and stored there on first use, or when what is
/// there is not a valid token.
///
/// # Concurrent first requests
///
/// This makes a token without asking the store, so concurrent requests of
/// one session that has no token yet each make their own, and the
/// session keeps one of them: the jobs stored under the others are lost to
/// the user. For the owner of a web app's requests, use the extractors
/// (`jobsess::redis::RedisJobs`, `jobsess::postgres::PostgresJobs`), or
/// [`claimed_owner_token`] with the session's id: they claim the token in
/// the store, so every request of the session gets the same one. This one
/// is for a session only one task uses at a time.
///
/// ```
/// # tokio_test::block_on(async {
/// use std::{collections::HashMap, sync::Mutex};
/// let session = Mutex::new(HashMap::new());
/// let token = jobsess::store::owner_token(&session).await?;
/// assert_eq!(jobsess::store::owner_token(&session).await?, token);
/// # Ok::<(), jobsess::Error>(())
/// # }).unwrap();
/// ```
///
/// # Errors
/// A failing session, or no randomness for a new token.
pub async fn owner_token<S: AsyncSessionBackend>(session: &S) -> Result<String> {
    // A session that can't be read is an error, never a reason for a new
    // token: that would orphan every job of the old one.
    let stored = session.get(OWNER_KEY).await?;
    if let Some(token) = valid_token(stored) {
        return Ok(token);
    }
    let token = new_owner_token()?;
    session
        .insert(OWNER_KEY, Value::String(token.clone()))
        .await?;
    Ok(token)
}

/// The owner token kept in `session` under [`OWNER_KEY`], claimed in
/// `store` for the session that `claim` names (its id, or a digest of its
/// cookie) when there is none yet: concurrent first requests of a session
/// agree on one token, as the extractors do, and no job is stored under a
/// token the session then forgets.
///
/// ```
/// # async fn run(store: jobsess::redis::RedisJobStore, session: tower_sessions::Session) -> jobsess::Result<()> {
/// use jobsess::store::claimed_owner_token;
/// let id = session.id().map(|id| id.to_string()); // None for a new session
/// let token = claimed_owner_token(&store, &session, id.as_deref()).await?;
/// let jobs = jobsess::AsyncJobSession::<jobsess::UntypedJob, _>::new(store.owner(&token)?);
/// # let _ = jobs; Ok(()) }
/// ```
///
/// # Errors
/// A failing session or store, or no randomness for a new token.
pub async fn claimed_owner_token<E: JobStore, S: AsyncSessionBackend>(
    store: &E,
    session: &S,
    claim: Option<&str>,
) -> Result<String> {
    let stored = session.get(OWNER_KEY).await?;
    let (token, new) = owner_of(store, stored, claim).await?;
    if new {
        session
            .insert(OWNER_KEY, Value::String(token.clone()))
            .await?;
    }
    Ok(token)
}

/// [`owner_token`] for a synchronous session (actix-session, maps).
///
/// ```
/// let mut session = std::collections::HashMap::new();
/// let token = jobsess::store::owner_token_sync(&mut session)?;
/// assert_eq!(session[jobsess::store::OWNER_KEY], token.as_str());
/// # Ok::<(), jobsess::Error>(())
/// ```
///
/// # Errors
/// A failing session, or no randomness for a new token.
pub fn owner_token_sync<S: crate::SessionBackend>(session: &mut S) -> Result<String> {
    let stored = session.get(OWNER_KEY)?.map(std::borrow::Cow::into_owned);
    if let Some(token) = valid_token(stored) {
        return Ok(token);
    }
    let token = new_owner_token()?;
    session.insert(OWNER_KEY, Value::String(token.clone()))?;
    Ok(token)
}

/// An app's own identity of the user (the user id an auth layer found) as
/// the owner of their jobs, so jobs follow the user across sessions and
/// devices. Put it in the request's extensions before the extractor runs,
/// from your auth middleware; [`ServerJobs`](super::ServerJobs) (`RedisJobs`) then uses it instead of a
/// token in the session.
///
/// ```
/// use jobsess::store::OwnerId;
/// let alice = OwnerId("user-42".into());
/// assert_eq!(alice.token().len(), 64);
/// assert_eq!(alice.token(), OwnerId("user-42".into()).token());
/// assert_ne!(alice.token(), OwnerId("user-43".into()).token());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerId(pub String);

impl OwnerId {
    /// The owner token of this user: a digest of the id, so no user id is
    /// written into Redis key names.
    #[must_use]
    pub fn token(&self) -> String {
        hex_digest(&self.0)
    }
}

/// SHA-256 of `text`, as hex.
pub(crate) fn hex_digest(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The owner token of a session that holds `stored` under [`OWNER_KEY`],
/// and whether it is new and must be written there. Without a valid token,
/// the session's `claim` (its id, or a digest of its cookie) is claimed in
/// Redis, so that concurrent first requests agree on one owner; without a
/// claim, a fresh token is made.
pub(crate) async fn owner_of<E: JobStore>(
    store: &E,
    stored: Option<Value>,
    claim: Option<&str>,
) -> Result<(String, bool)> {
    if let Some(token) = valid_token(stored) {
        return Ok((token, false));
    }
    let fresh = new_owner_token()?;
    let token = match claim {
        Some(claim) => store.claim(claim, &fresh).await?,
        None => fresh,
    };
    if !is_token(&token) {
        return Err(Error::InvalidOwner);
    }
    Ok((token, true))
}

fn valid_token(stored: Option<Value>) -> Option<String> {
    match stored {
        Some(Value::String(token)) if is_token(&token) => Some(token),
        _ => None,
    }
}
