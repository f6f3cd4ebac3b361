//! The integration tests of the web integrations, the stores and the whole
//! apps, in one test binary (one link of the web stack instead of one per
//! file); the core's are in `tests/core/`. Each module is one topic.
//!
//! A test whose outside tool or service is missing (a Redis at `REDIS_URL`,
//! `redis-server`, Chromium and chromedriver) says by name that it did not
//! run and why, and passes; with `JOBSESS_TEST_STRICT=1` (as `.ci/run` sets
//! it) it fails instead. See the README's "Run the tests".

#[macro_use]
mod common;

mod browser;
mod e2e;
mod examples;
mod faults;
mod fidelity;
mod matrix;
mod postgres_sqlx08;
mod postgres_sqlx09;
mod queues;
mod redis_cluster;
mod redis_store;
mod server_http;
mod servers;
mod sqlite_sqlx08;
mod sqlite_sqlx09;
mod store_conformance;
mod tower;
mod tower_versions;
mod update;
mod versions;
mod watch;
mod workers;
