//! What CI runs: `cargo xtask test` and its checks (build graph, monitoring rules, workflows, manifests), the fleet test (`fleet_test`: the walk, the crash test, backup and restore), the fleet walk, the crash test and the compose test.

pub(crate) mod build_graph;
pub(crate) mod compose_test;
pub(crate) mod crash;
pub(crate) mod fleet_test;
pub(crate) mod fleet_walk;
pub(crate) mod manifests;
pub(crate) mod monitoring;
pub(crate) mod test;
pub(crate) mod workflows;
