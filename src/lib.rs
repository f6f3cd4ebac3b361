//! The workspace's root package: it holds the integration tests, the
//! examples and the benchmarks of `jobsess`. It is not published.
