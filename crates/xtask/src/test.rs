//! `cargo xtask test`: everything CI checks, in order of cost: formatting, clippy, the alert
//! rules' tests and the dashboard's queries (promtool), the Kubernetes manifests (rendered and
//! validated), the workflows (actionlint), every unit
//! and integration test against one PostgreSQL and one Redis started for the run, then the
//! fleet test (real binaries behind real NGINX).

use std::path::Path;

use testkit::FleetKeys;
use testkit::cluster::{start_postgres, start_redis};
use testkit::procs::signal_group;

use crate::{cargo, run_step};

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    crate::install::ensure_packages()?;
    crate::install::ensure_s3_server()?;
    crate::install::ensure_openapi_validator()?;
    run_step("cargo fmt --check", cargo().current_dir(root).args(["fmt", "--all", "--", "--check"]))?;
    run_step(
        "cargo clippy",
        cargo().current_dir(root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )?;

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

    let outcome = run_step(
        "cargo test (unit and integration)",
        cargo()
            .current_dir(root)
            .args(["test", "--workspace", "--no-fail-fast"])
            .env("SHOPFLEET_TEST_PG_URL", format!("postgres://postgres@127.0.0.1:{pg_port}/postgres"))
            .env("SHOPFLEET_TEST_REDIS_URL", format!("redis://127.0.0.1:{redis_port}"))
            .env("SHOPFLEET_TEST_KEYS_DIR", &keys_dir),
    );
    for child in [&mut postgres, &mut redis] {
        signal_group(child, libc::SIGTERM);
        let _ = child.wait();
    }
    outcome?;

    crate::fleet::fleet_test(root)?;
    eprintln!("==> all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
