//! The fault cases of server-side job stores, each written once for every
//! engine that has the fault: a job that expires, a write that runs past
//! its deadline, and a server that dies and comes back. Each case runs on
//! a server of its own ([`Server`]: start, stop, start again; never the
//! shared ones); `faults!` runs every case against one engine. The
//! in-memory store has none of these faults (no TTL, no server), so it
//! runs the conformance suite only.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jobsess::store::JobStore;
use jobsess::watch::Change;
use jobsess::{AsyncJobSession, Error};

use crate::servers::{OwnPostgres, OwnRedis, durable_redis, free_port, no_postgres_bin};

use crate::common::{Job, job};

/// An engine on a server of the test's own.
pub(crate) trait Server: Sized + Send {
    type Store: JobStore;

    /// How the store's errors begin: `"the Redis job store failed to "`.
    const FAILED: &'static str;

    /// How long an operation may take before the store gives up on it.
    const TIMEOUT: Duration;

    /// Whether reads go on during [`stop`](Self::stop)'s outage (SQLite's,
    /// where only writes wait on the lock another process holds).
    const READS_IN_OUTAGE: bool = false;

    /// Why it can't run here (a missing program), if it can't.
    fn missing() -> Option<String>;

    /// A server that keeps every acknowledged write through a kill, and a
    /// store on it whose jobs expire after `ttl` (`None`: never).
    async fn start(ttl: Option<Duration>) -> (Self, Self::Store);

    /// Kills the server at once, as a crash would.
    fn stop(&mut self);

    /// Starts the server again, on the data it had.
    fn restart(&mut self);

    /// Holds every write to the jobs of the owner `token` from now for
    /// `time`, longer than [`TIMEOUT`](Self::TIMEOUT): the server keeps
    /// such a write waiting, then runs it when the hold ends.
    async fn hold_writes(&self, store: &Self::Store, token: &str, time: Duration);
}

fn owner<E: JobStore>(store: &E) -> (String, AsyncJobSession<Job, E::Owner>) {
    let token = jobsess::store::MemoryJobStore::new_owner_token().unwrap();
    let jobs = AsyncJobSession::new(store.owner(&token).unwrap());
    (token, jobs)
}

/// A job expires `ttl` after the last write to it, on its own timer, and is
/// then simply gone: not listed, not loaded, not writable, not counted, and
/// its watchers learn of it (an expiry sends no message: the watch hub
/// reads the job once the TTL has passed with no news).
pub(crate) async fn an_expired_job_is_gone_and_its_watchers_learn_it<S: Server>() {
    let (_server, store) = S::start(Some(Duration::from_secs(1))).await;
    let (_, jobs) = owner(&store);
    jobs.store("old", &job("old")).await.unwrap();
    jobs.store("kept", &job("kept")).await.unwrap();
    let mut changes = jobs.watch("old").await.unwrap();
    assert!(matches!(changes.next().await, Some(Ok(Change::Updated(_)))));
    // `kept` is written again within its second, so it outlives `old`
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        jobs.store_field("kept", Job::PROGRESS, &1).await.unwrap();
    }
    assert_eq!(jobs.ids().await.unwrap(), ["kept"]);
    assert_eq!(jobs.load("old").await.unwrap(), None);
    assert_eq!(jobs.load_field("old", Job::PROGRESS).await.unwrap(), None);
    assert!(!jobs.contains("old").await.unwrap());
    assert!(matches!(
        jobs.store_field("old", Job::PROGRESS, &5).await,
        Err(Error::JobNotFound { .. })
    ));
    assert!(matches!(
        jobs.update_field("old", Job::PROGRESS, |p| *p += 1).await,
        Err(Error::JobNotFound { .. })
    ));
    assert_eq!(jobs.load("old").await.unwrap(), None, "no partial job");
    let ended = tokio::time::timeout(Duration::from_secs(5), changes.next())
        .await
        .expect("the watcher learns of the expiry within 5 s");
    assert_eq!(ended.unwrap().unwrap(), Change::Deleted);
    assert_eq!(jobs.clear().await.unwrap(), 1, "only the live job counts");
}

/// A write the store gave up on (the server held it past the store's
/// timeout, and the caller got the error) never lands later: the deadline
/// each write carries makes the server refuse it when it finally runs.
pub(crate) async fn a_write_past_its_deadline_never_lands<S: Server>() {
    let (server, store) = S::start(None).await;
    let (token, jobs) = owner(&store);
    jobs.store("a", &job("a")).await.unwrap();
    jobs.store("b", &job("b")).await.unwrap();

    let hold = S::TIMEOUT * 2;
    let held_at = Instant::now();
    server.hold_writes(&store, &token, hold).await;
    let late = job("late");
    let (field, whole, removed, cleared) = tokio::join!(
        jobs.store_field("a", Job::PROGRESS, &50),
        jobs.store("b", &late),
        jobs.delete("a"),
        jobs.clear(),
    );
    for (what, err) in [
        ("store_field", field.unwrap_err()),
        ("store", whole.unwrap_err()),
        ("delete", removed.unwrap_err()),
        ("clear", cleared.unwrap_err()),
    ] {
        assert!(matches!(err, Error::Backend { .. }), "{what}: {err}");
        assert_eq!(err.http_status(), 503, "{what}");
        assert!(err.to_string().starts_with(S::FAILED), "{what}: {err}");
    }
    assert!(
        held_at.elapsed() < hold,
        "the writes were answered only after the hold: {:?}",
        held_at.elapsed()
    );
    // the server runs them when the hold ends; give it time to
    tokio::time::sleep_until((held_at + hold + Duration::from_millis(700)).into()).await;
    assert_eq!(jobs.load("a").await.unwrap(), Some(job("a")));
    assert_eq!(jobs.load("b").await.unwrap(), Some(job("b")));
    // and the store serves again: a new write lands
    jobs.store_field("a", Job::PROGRESS, &70).await.unwrap();
    assert_eq!(jobs.load_field("a", Job::PROGRESS).await.unwrap(), Some(70));
}

/// The server is killed under load: requests fail fast with a retriable
/// error (503) that names the store, instead of hanging (on SQLite, where
/// the outage is a lock another process holds, reads go on); writes during the
/// outage are not acknowledged and never land. Once the server is back the
/// same store serves again without a restart of the app, with every
/// acknowledged job and write there, and its watchers go on.
pub(crate) async fn an_outage_fails_fast_and_the_store_recovers<S: Server>() {
    let (mut server, store) = S::start(None).await;
    let (_, jobs) = owner(&store);
    let mut acknowledged = std::collections::BTreeMap::new();
    for i in 0..50u8 {
        let id = format!("job-{i:02}");
        jobs.store(&id, &job(&id)).await.unwrap();
        jobs.store_field(&id, Job::PROGRESS, &i).await.unwrap();
        acknowledged.insert(id, i);
    }
    let mut changes = jobs.watch("job-00").await.unwrap();
    assert!(matches!(changes.next().await, Some(Ok(Change::Updated(_)))));

    server.stop();
    let within = S::TIMEOUT * 2 + Duration::from_millis(500);
    for _ in 0..3 {
        let started = Instant::now();
        let read = jobs.load("job-01").await;
        assert!(started.elapsed() < within, "took {:?}", started.elapsed());
        if S::READS_IN_OUTAGE {
            let read = read.unwrap().map(|job| job.progress);
            assert_eq!(read, Some(1), "reads go on");
        } else {
            let err = read.unwrap_err();
            assert!(matches!(err, Error::Backend { .. }), "{err}");
            assert_eq!(err.http_status(), 503);
            assert!(err.to_string().starts_with(S::FAILED), "{err}");
        }
        let started = Instant::now();
        let err = jobs
            .store_field("job-02", Job::PROGRESS, &200)
            .await
            .unwrap_err();
        assert!(started.elapsed() < within, "took {:?}", started.elapsed());
        assert!(matches!(err, Error::Backend { .. }), "{err}");
        assert_eq!(err.http_status(), 503);
        assert!(err.to_string().contains("job_job-02"), "{err}");
    }

    server.restart();
    let back = Instant::now();
    while jobs.load("job-03").await.is_err() {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "the store serves again within 10 s of the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "outage: served again {:?} after the restart",
        back.elapsed()
    );
    // the writes that failed during the outage never land
    assert_eq!(
        jobs.load_field("job-02", Job::PROGRESS).await.unwrap(),
        Some(2)
    );
    jobs.store_field("job-00", Job::PROGRESS, &77)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    acknowledged.insert("job-00".to_owned(), 77);
    for (id, progress) in &acknowledged {
        assert_eq!(
            jobs.load_field(id, Job::PROGRESS).await.unwrap(),
            Some(*progress),
            "{id} lost or changed"
        );
    }
    assert_eq!(jobs.ids().await.unwrap().len(), acknowledged.len());
    // the watcher gets the write made after the restart (and may have been
    // told of failed reads meanwhile)
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let next = tokio::time::timeout_at(deadline.into(), changes.next())
            .await
            .expect("the watcher sees the write made after the restart")
            .expect("the stream goes on");
        if let Ok(Change::Updated(job)) = next
            && job.progress == 77
        {
            break;
        }
    }
}

/// A Redis with an append-only file, fsynced on every write, and the
/// store `RedisJobStore::connect` makes (1 s command timeout).
pub(crate) struct Redis {
    server: Option<OwnRedis>,
    port: u16,
    dir: std::path::PathBuf,
}

impl Server for Redis {
    type Store = jobsess::redis::RedisJobStore;

    const FAILED: &'static str = "the Redis job store failed to ";
    const TIMEOUT: Duration = Duration::from_secs(1);

    fn missing() -> Option<String> {
        crate::common::tools(&["redis-server"])
    }

    async fn start(ttl: Option<Duration>) -> (Self, Self::Store) {
        let port = free_port().expect("a free port");
        let dir = std::env::temp_dir().join(format!("jobsess-faults-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let server = Some(OwnRedis(durable_redis(port, &dir), port));
        let mut store =
            jobsess::redis::RedisJobStore::connect(&format!("redis://127.0.0.1:{port}"))
                .await
                .unwrap();
        if let Some(ttl) = ttl {
            store = store.with_ttl(ttl);
        }
        (Redis { server, port, dir }, store)
    }

    fn stop(&mut self) {
        drop(self.server.take()); // SIGKILL
    }

    fn restart(&mut self) {
        self.server = Some(OwnRedis(durable_redis(self.port, &self.dir), self.port));
    }

    /// `CLIENT PAUSE`: every command the server receives waits until the
    /// pause ends.
    async fn hold_writes(&self, _: &Self::Store, _: &str, time: Duration) {
        use fred::prelude::*;
        let config = Config::from_url(&format!("redis://127.0.0.1:{}", self.port)).unwrap();
        let admin = Builder::from_config(config).build().unwrap();
        admin.init().await.unwrap();
        let _: () = admin
            .custom(
                fred::cmd!("CLIENT"),
                vec!["PAUSE".to_owned(), time.as_millis().to_string()],
            )
            .await
            .unwrap();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        drop(self.server.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The PostgreSQL engine on a cluster of its own, for both sqlx versions.
macro_rules! postgres_server {
    ($name:ident, $store:ty, $sqlx:ident) => {
        pub(crate) struct $name(OwnPostgres);

        impl Server for $name {
            type Store = $store;

            const FAILED: &'static str = "the PostgreSQL job store failed to ";
            const TIMEOUT: Duration = Duration::from_millis(800);

            fn missing() -> Option<String> {
                no_postgres_bin()
            }

            async fn start(ttl: Option<Duration>) -> (Self, Self::Store) {
                let server = OwnPostgres::start();
                let mut store = <$store>::connect(&server.url())
                    .await
                    .unwrap()
                    .with_schema("jobsess_faults")
                    .with_timeout(Self::TIMEOUT);
                if let Some(ttl) = ttl {
                    store = store.with_ttl(ttl);
                }
                store.migrate().await.unwrap();
                ($name(server), store)
            }

            fn stop(&mut self) {
                self.0.down();
            }

            fn restart(&mut self) {
                self.0.up();
            }

            /// A transaction that locks the owner's rows: a write to them
            /// waits until it commits.
            async fn hold_writes(&self, store: &Self::Store, token: &str, time: Duration) {
                let mut holder = store.pool().begin().await.unwrap();
                let text = "SELECT 1 FROM jobsess_faults.jobs WHERE owner = $1 FOR UPDATE";
                ::$sqlx::query(text)
                    .bind(token)
                    .execute(&mut *holder)
                    .await
                    .unwrap();
                tokio::spawn(async move {
                    tokio::time::sleep(time).await;
                    holder.commit().await.unwrap();
                });
            }
        }
    };
}

postgres_server!(Postgres, jobsess::postgres::PostgresJobStore, sqlx);
postgres_server!(
    PostgresSqlx09,
    jobsess::postgres_sqlx09::PostgresJobStore,
    sqlx_09
);

/// The SQLite engine on a database file of its own. SQLite has no server
/// to kill: its outage is another process that takes the file's write lock
/// and keeps it (a stuck process, a long migration), so that every write
/// waits on it; reads go on (WAL). It ends when that process lets go.
pub(crate) struct Sqlite {
    path: std::path::PathBuf,
    /// Ends the lock holder's hold (its thread then rolls back and quits).
    holder: Option<std::sync::mpsc::Sender<()>>,
}

impl Server for Sqlite {
    type Store = jobsess::sqlite::SqliteJobStore;

    const FAILED: &'static str = "the SQLite job store failed to ";
    const TIMEOUT: Duration = Duration::from_millis(800);
    const READS_IN_OUTAGE: bool = true;

    fn missing() -> Option<String> {
        None // SQLite is built into the test binary
    }

    async fn start(ttl: Option<Duration>) -> (Self, Self::Store) {
        let path = crate::common::sqlite_path();
        let mut store = jobsess::sqlite::SqliteJobStore::open(&path)
            .await
            .unwrap()
            .with_timeout(Self::TIMEOUT);
        if let Some(ttl) = ttl {
            store = store.with_ttl(ttl);
        }
        (Sqlite { path, holder: None }, store)
    }

    /// A connection of its own, on a thread of its own, takes the file's
    /// write lock (a write in an open transaction) and holds it.
    fn stop(&mut self) {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (locked, is_locked) = std::sync::mpsc::channel::<()>();
        let options = jobsess::sqlite::SqliteJobStore::connect_options(&self.path);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                for statement in [
                    "BEGIN IMMEDIATE",
                    "UPDATE jobsess_jobs_revision SET revision = revision WHERE one = 0",
                ] {
                    sqlx::query(statement).execute(&mut conn).await.unwrap();
                }
                locked.send(()).unwrap();
                let _ = tokio::task::spawn_blocking(move || released.recv()).await;
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            });
        });
        is_locked.recv().expect("the lock holder takes the lock");
        self.holder = Some(release);
    }

    fn restart(&mut self) {
        if let Some(release) = self.holder.take() {
            let _ = release.send(());
        }
    }

    /// A transaction of another connection that has written (`BEGIN
    /// IMMEDIATE`): every write waits for SQLite's write lock until it
    /// commits; reads go on (WAL).
    async fn hold_writes(&self, _: &Self::Store, _: &str, time: Duration) {
        use sqlx::Connection;
        let options = jobsess::sqlite::SqliteJobStore::connect_options(&self.path);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(time).await;
            sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
        });
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        self.restart();
    }
}

/// Runs every fault case against the engine on `$server`. The list of
/// cases is written here once, for every engine.
macro_rules! faults {
    ($engine:ident, $server:ty) => {
        faults!(@cases $engine, $server, [
            an_expired_job_is_gone_and_its_watchers_learn_it,
            a_write_past_its_deadline_never_lands,
            an_outage_fails_fast_and_the_store_recovers,
        ]);
    };
    (@cases $engine:ident, $server:ty, [$($case:ident),* $(,)?]) => {
        mod $engine {
            use super::Server;

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    require!(<$server>::missing());
                    super::$case::<$server>().await;
                }
            )*
        }
    };
}

faults!(redis, super::Redis);
faults!(postgres, super::Postgres);
faults!(postgres_sqlx09, super::PostgresSqlx09);
faults!(sqlite, super::Sqlite);
