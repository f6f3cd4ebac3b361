//! The workspace's root package: it holds the integration tests, the
//! examples and the benchmarks of `jobsess`, and doc-tests the README.
//! It is not published.
#![doc = include_str!("../README.md")]

pub mod demo;
