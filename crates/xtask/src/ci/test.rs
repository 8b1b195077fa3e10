//! `cargo xtask test`: everything CI checks, in order of cost: formatting, the alert rules'
//! tests and the dashboard's queries (promtool), the Kubernetes manifests (rendered and
//! validated), the workflows (actionlint), every unit and integration test against one
//! PostgreSQL and one Redis started for the run (built under clippy's driver, so clippy's
//! `-D warnings` fails the build), the Redis Cluster pass, then the fleet test (real binaries
//! behind real NGINX).

use std::path::Path;

use bootstrap::keys::FleetKeys;
use testkit::cluster::{start_postgres, start_redis};
use testkit::procs::signal_group;

use crate::{cargo, linted_cargo, run_step};

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    crate::dev::install::ensure_packages()?;
    crate::dev::install::ensure_s3_server()?;
    crate::dev::install::ensure_openapi_validator()?;
    run_step("cargo fmt --check", cargo().current_dir(root).args(["fmt", "--all", "--", "--check"]))?;

    crate::ops_checks(root)?;

    // One cluster and one Redis for every test binary of the run.
    let run_dir = std::env::temp_dir().join(format!("shopfleet-xtask-test-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(run_dir.clone());
    let pg_port = testkit::unused_port();
    let redis_port = testkit::unused_port();
    eprintln!("==> starting PostgreSQL on {pg_port} and Redis on {redis_port} for the test run");
    let mut postgres = start_postgres(&run_dir.join("pg"), pg_port, false)?;
    let mut redis = start_redis(&run_dir.join("redis"), redis_port, false)?;
    let keys_dir = run_dir.join("keys");
    FleetKeys::generate().write(&keys_dir)?;

    // Linted as it compiles (clippy's driver, `-D warnings`): see `linted_cargo`.
    let outcome = run_step(
        "cargo test (unit and integration, linted by clippy)",
        linted_cargo()?
            .current_dir(root)
            .args(["test", "--workspace", "--no-fail-fast"])
            .env("SHOPFLEET_TEST_PG_URL", format!("postgres://postgres@127.0.0.1:{pg_port}/postgres"))
            .env("SHOPFLEET_TEST_REDIS_URL", format!("redis://127.0.0.1:{redis_port}"))
            .env("SHOPFLEET_TEST_KEYS_DIR", &keys_dir),
    );
    let outcome = outcome.and_then(|()| cluster_pass(root, pg_port, &run_dir, &keys_dir));
    for child in [&mut postgres, &mut redis] {
        signal_group(child, libc::SIGTERM);
        let _ = child.wait();
    }
    outcome?;

    crate::ci::fleet_test::fleet_test(root)?;
    eprintln!("==> all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The focused Redis Cluster pass: a local cluster of three masters (every service's ACL user on
/// every node), then the tests of what Redis does for the shop that a cluster could break: the
/// gateway's limits and revocation (one script over one user's keys), the carts (scripts over
/// one cart), and the event backbone's consumer groups (one XREADGROUP over every stream).
fn cluster_pass(root: &Path, pg_port: u16, run_dir: &Path, keys_dir: &Path) -> anyhow::Result<()> {
    let ports = [testkit::unused_port(), testkit::unused_port(), testkit::unused_port()];
    eprintln!("==> starting a Redis Cluster on {ports:?} for the cluster pass");
    let mut nodes = testkit::cluster::start_redis_cluster(&run_dir.join("redis-cluster"), ports)?;
    let urls = ports.iter().map(|p| format!("redis://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
    // One invocation over the workspace, so the test binaries already built are reused (a
    // `-p` selection unifies features differently and rebuilds); the filters pick the modules.
    let outcome = run_step(
        "cargo test on the Redis Cluster (gateway limits and revocation, carts, event backbone)",
        linted_cargo()?
            .current_dir(root)
            .args(["test", "--workspace", "--test", "api", "--test", "conformance", "--"])
            .args(["limits::", "identity::", "carts::", "backbone::"])
            .args(["--skip", "without_redis", "--skip", "while_redis_is_down"])
            .env("SHOPFLEET_TEST_PG_URL", format!("postgres://postgres@127.0.0.1:{pg_port}/postgres"))
            .env("SHOPFLEET_TEST_REDIS_URL", &urls)
            .env("SHOPFLEET_TEST_REDIS_CLUSTER", "1")
            .env("SHOPFLEET_TEST_KEYS_DIR", keys_dir),
    );
    for node in &mut nodes {
        signal_group(node, libc::SIGTERM);
        let _ = node.wait();
    }
    outcome
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
