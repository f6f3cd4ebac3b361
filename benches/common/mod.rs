//! What the benches share.

pub mod http;
pub mod pairs;
