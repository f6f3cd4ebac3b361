//! The core's integration tests: the handles over the in-memory backends,
//! with no web framework, store or outside service. A test binary of its
//! own, so it builds beside the web and store tests (`tests/it/`) instead
//! of after them.

mod async_maps;
mod backends;
mod index;
mod notebook;
mod properties;
mod robustness;
mod serde_keys;
mod workflow;
