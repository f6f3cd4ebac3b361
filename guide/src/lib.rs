//! Holds `examples/workflow.rs`, the Python original's steps one by one on a
//! `HashMap` session, in a package whose dependencies are the jobsess core
//! and serde only, so running it builds no web framework.
