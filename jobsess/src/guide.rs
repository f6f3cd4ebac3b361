//! The guides: how jobsess works, one topic a page, each example tested.
//! The README has the quick starts; the pages here are the reference
//! behind them, beside the API docs of each item.
//!
//! | page | what it covers |
//! |---|---|
//! | [`handle`] | the methods of `JobSession` and `AsyncJobSession`, and the key rules |
//! | [`backends`] | every backend, how each lists its jobs, your own backend, decorators |
//! | [`axum`] | the `Jobs<M>` extractor over tower-sessions, errors as responses |
//! | [`actix`] | the `Jobs<M>` extractor over actix-session, cookie budgets |
//! | [`concurrency`] | what concurrent requests can lose on each backend, and what they can't |
//! | [`update`] | read-modify-write with no lost update, and its cost |
//! | [`versions`] | versioned metadata, migrations, rolling deploys |
//! | [`redis`] | the Redis job store: layout, expiry, faults, Redis Cluster |
//! | [`postgres`] | the PostgreSQL job store: the table, expiry, the app's transaction, sqlx 0.8 and 0.9 |
//! | [`sqlite`] | the SQLite job store: one file, no server, live jobs across processes, "database is locked" |
//! | [`live`] | `watch`, server-sent events, htmx |
//! | [`workers`] | job references for workers, the end of a job, counters, job queues |

#[doc = include_str!("../docs/handle.md")]
pub mod handle {}

#[doc = include_str!("../docs/backends.md")]
pub mod backends {}

#[doc = include_str!("../docs/axum.md")]
pub mod axum {}

#[doc = include_str!("../docs/actix.md")]
pub mod actix {}

#[doc = include_str!("../docs/concurrency.md")]
pub mod concurrency {}

#[doc = include_str!("../docs/update.md")]
pub mod update {}

#[doc = include_str!("../docs/versions.md")]
pub mod versions {}

#[doc = include_str!("../docs/redis.md")]
pub mod redis {}

#[doc = include_str!("../docs/postgres.md")]
pub mod postgres {}

#[doc = include_str!("../docs/sqlite.md")]
pub mod sqlite {}

#[doc = include_str!("../docs/live.md")]
pub mod live {}

#[doc = include_str!("../docs/workers.md")]
pub mod workers {}
