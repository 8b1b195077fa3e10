//! The analytics service's integration tests: one binary (link time on two cores).

mod helpers;
mod rollups;
mod tracking;
