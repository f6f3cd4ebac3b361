//! Holds the trybuild suite of `#[derive(JobMetadata)]` and the typed keys
//! (`tests/ui.rs`), in a package whose dependencies are the jobsess core
//! and serde only, so trybuild doesn't build the web stack again.
