//! What a user would use instead of jobsess: the jobs in a tower-sessions
//! session record, against jobsess with the session holding only the
//! owner token.

use std::hint::black_box;
use std::sync::Arc;

use jobsess::{AsyncJobSession, AsyncSessionBackend};
use tower_sessions::{Session, SessionStore};

use super::job::{TranscriptionJob, job_123};
use super::pairs::{self, Pair};

/// A one-field update of a job among 10, as pair `name`: the 10 jobs in
/// one session record of `sessions`, loaded, changed and saved whole,
/// against the same store's session loaded (it holds only the owner
/// token) and one field write through `jobs`, which gets the same 10 jobs.
pub fn field_update_in_record<S, B>(
    c: &mut criterion::Criterion,
    rt: &tokio::runtime::Runtime,
    name: &'static str,
    sessions: &Arc<S>,
    jobs: &AsyncJobSession<TranscriptionJob, B>,
) where
    S: SessionStore,
    B: AsyncSessionBackend,
{
    let (record, owner) = rt.block_on(async {
        let record = Session::new(None, sessions.clone(), None);
        for i in 0..10 {
            record
                .insert(&format!("transcription_job-{i}"), job_123())
                .await
                .expect("inserts");
            jobs.store(&format!("job-{i}"), &job_123())
                .await
                .expect("stores");
        }
        record.save().await.expect("saves");
        let owner = Session::new(None, sessions.clone(), None);
        owner.insert("owner", "a token").await.expect("inserts");
        owner.save().await.expect("saves");
        (record.id().expect("an id"), owner.id().expect("an id"))
    });
    let prefs = &job_123().user_preferences;
    let pair = Pair::new(
        name,
        move || async move {
            // one request: load the record, change one job, save it whole
            let session = Session::new(Some(record), sessions.clone(), None);
            let key = "transcription_job-3";
            let mut job: TranscriptionJob = session.get(key).await.expect("loads").expect("a job");
            job.user_preferences = prefs.clone();
            session.insert(key, job).await.expect("inserts");
            session.save().await.expect("saves");
        },
        move || async move {
            // one request: the session's owner token, then the field
            let session = Session::new(Some(owner), sessions.clone(), None);
            let token: String = session.get("owner").await.expect("loads").expect("a token");
            black_box(token);
            jobs.store_field("job-3", TranscriptionJob::USER_PREFERENCES, prefs)
                .await
                .expect("stores");
        },
    );
    pairs::run(c, rt, &[pair]);
    rt.block_on(async {
        let _ = sessions.delete(&record).await;
        let _ = sessions.delete(&owner).await;
    });
}
