//! What the microbenches share (and the lab in `bench/` with them): the
//! workload, the pair runners, the floors on a map and on a
//! tower-sessions `Session`.

pub mod harness;
pub mod job;
pub mod pairs;
pub mod tower_floor;
