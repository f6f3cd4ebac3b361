//! What the benches share.

pub mod pairs;
