//! `cargo xtask <command>`: the developer's and CI's entry points.
//!
//! - `keys`  — dev key pairs into `.dev/keys` (git-ignored, dev-only); `--force` remakes them.
//! - `up`    — the whole shop locally: PostgreSQL, Redis, fourteen services and NGINX on 8080.
//! - `test`  — formatting, every test against real servers (built under clippy), the fleet test.
//! - `fleet` — only the fleet test (the walk, then the crash test: `CRASH_ORDERS`, default 40).
//! - `crash` — only the crash test, on a fleet of its own.
//! - `bench events` — the event backbone against a raw Redis Streams round trip.
//! - `bench gateway` — what NGINX and the gateway add to a catalog read (release build).
//! - `bench checkout` — concurrent shoppers through the whole saga, against pgbench's TPC-B.
//! - `audit [DATABASE_URL]` — the checkout's invariants across orders, payments and inventory
//!   (read-only; by default the `up` cluster); non-zero exit on any violation.
//! - `backup [DIR]` / `restore DIR [DATA_DIR]` — the `up` shop's schemas (pg_dump per schema)
//!   and media bucket into DIR; a backup into a fresh cluster (see `backup.rs`).
//! - `cloudflare-ips IPS_V4 IPS_V6` — refreshes nginx/cloudflare-ips.conf from Cloudflare's lists.
//! - `openapi` — regenerates `services/gateway/openapi.json` from the services' routes.
//! - `compose-test` — docker-compose.yml run with Docker (images from the built binaries), and the
//!   fleet walk against it; SKIPPED without an engine unless `SHOPFLEET_REQUIRE_COMPOSE=1`;
//!   `--prepare` only makes the images that need no binary of ours (CI runs it in the background).
//! - `deploy` — regenerates docker-compose.yml, deploy/compose/nginx.conf, deploy/k8s and the
//!   images workflow from the fleet and callers tables.
//! - `manifests` — renders both kustomize overlays and validates them (schemas and the code's tables).
//! - `ops` — promtool on the alert rules and the dashboard, the manifests, actionlint on the
//!   workflows, and the build graph.
//! - `build-graph` — xtask's and the service binaries' builds are parts of the test build (see
//!   `build_graph.rs`).
//! - `totp` — the demo admin's current TOTP code (after `up` created it).
//! - `bootstrap keys|stores` — the compose stack's one-shot bootstrap (see `bootstrap.rs`).
//! - `rotate-keys` — a new access-token signing key in the dev key ring (while `up` runs).

mod audit;
mod backup;
mod bench;
mod bench_catalog;
mod bench_checkout;
mod bench_gateway;
mod bench_search;
mod bootstrap;
mod build_graph;
mod cloudflare;
mod compose_test;
mod crash;
mod deploy;
mod fleet;
mod fleet_walk;
mod install;
mod k8s;
mod keys;
mod manifests;
mod monitoring;
mod nginx;
mod shopper;
mod storefront;
mod test;
mod up;
mod workflows;
mod yaml;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bootstrap") {
        // Runs in the compose stack's bootstrap container, far from any workspace.
        return finish(bootstrap::run(&args[1..]));
    }
    let root = workspace_root();
    let outcome = match args.first().map(String::as_str) {
        Some("keys") => keys::run(&root, args.iter().any(|a| a == "--force")).map(|_| ()),
        Some("up") => up::run(&root, &args[1..]),
        Some("test") => test::run(&root),
        Some("fleet") => fleet::fleet_test(&root),
        Some("crash") => fleet::crash_test(&root),
        Some("bench") => bench::run(&root, &args[1..]),
        Some("openapi") => openapi(&root),
        Some("deploy") => deploy::run(&root),
        Some("compose-test") => compose_test::run(&root, &args[1..]),
        Some("manifests") => manifests::run(&root),
        Some("ops") => ops_checks(&root),
        Some("build-graph") => build_graph::check(&root),
        Some("cloudflare-ips") => cloudflare::run(&root, &args[1..]),
        Some("backup") => backup::backup_command(&root, &args[1..]),
        Some("restore") => backup::restore_command(&root, &args[1..]),
        Some("audit") => audit::run(&args[1..]),
        Some("totp") => up::totp(&root),
        Some("rotate-keys") => up::rotate_keys(&root),
        _ => {
            eprintln!(
                "usage: cargo xtask <keys [--force] | up [--release] [--replicas NAME=N,...] | test | fleet | crash | bench [events|gateway|catalog|search|checkout] | audit [DATABASE_URL] | openapi | totp | rotate-keys>"
            );
            return ExitCode::from(2);
        }
    };
    finish(outcome)
}

fn finish(outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, found at run time (never baked in at build time: with a shared target
/// dir, one binary may serve several checkouts): two levels above the manifest `cargo run`
/// names, or else the nearest folder above the current one whose Cargo.toml is a workspace.
fn workspace_root() -> PathBuf {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR").map(|dir| PathBuf::from(dir).join("../.."));
    let found = from_cargo.filter(|dir| is_workspace(dir)).or_else(|| {
        let here = std::env::current_dir().ok()?;
        here.ancestors().find(|dir| is_workspace(dir)).map(Path::to_path_buf)
    });
    match found.and_then(|dir| dir.canonicalize().ok()) {
        Some(root) => root,
        None => {
            eprintln!("xtask: run me inside the Shopfleet workspace (no Cargo.toml with [workspace] above here)");
            std::process::exit(2);
        }
    }
}

fn is_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| text.contains("[workspace]"))
        && dir.join("crates/xtask").is_dir()
}

/// `cargo xtask openapi`: the conformance test that compares the served document with the
/// code, told to write it instead (xtask links no service, so the test binary does the work).
fn openapi(root: &Path) -> anyhow::Result<()> {
    run_step(
        "write services/gateway/openapi.json",
        cargo()
            .current_dir(root)
            .args(["test", "-p", "conformance", "--test", "conformance", "openapi::"])
            .env("SHOPFLEET_UPDATE_OPENAPI", "1"),
    )
}

/// `cargo xtask ops` (and a step of `cargo xtask test`): the alert rules' tests and the
/// dashboard's queries (promtool), the Kubernetes manifests, the GitHub workflows (actionlint),
/// the build graph.
fn ops_checks(root: &Path) -> anyhow::Result<()> {
    monitoring::check(root)?;
    manifests::run(root)?;
    workflows::check(root)?;
    build_graph::check(root)
}

/// The cargo that runs us, without the variables `cargo run` gave us as a package's binary.
/// A build script that tracks one of them sees it change between a build from the shell and one
/// from here, and its crate and all above it compile again (ring's tracked `CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR` and more: 114 s of every CI run while ring was in the build).
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_run_variable) {
            command.env_remove(name);
        }
    }
    command
}

/// Whether `cargo run` sets `name` for the binary it runs (the package's own variables).
fn is_run_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "OUT_DIR"].contains(&name)
}

/// How clippy's driver learns its arguments from `cargo clippy` (`-D warnings`, joined by
/// clippy's separator). `.ci/run` exports the same value: clippy tracks it, and a different one
/// would rebuild the workspace's crates.
const CLIPPY_ARGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// The cargo for the builds of a test run: clippy's driver wraps rustc for the workspace's own
/// crates with `-D warnings`, so one build both lints (what `cargo clippy --all-targets` does)
/// and compiles. A separate `cargo clippy` type-checked every dependency a second time, the
/// longest step of a cold CI run. `.ci/run` exports the same two variables, so `cargo xtask`
/// itself is built that way too and its crates are not compiled twice.
fn linted_cargo() -> anyhow::Result<Command> {
    let mut command = cargo();
    command.env("RUSTC_WORKSPACE_WRAPPER", clippy_driver()?).env("CLIPPY_ARGS", CLIPPY_ARGS);
    Ok(command)
}

/// clippy's driver: the one `.ci/run` exported, else the one beside the cargo that runs us
/// (rustup installs them side by side), else rustup's answer.
fn clippy_driver() -> anyhow::Result<std::ffi::OsString> {
    if let Some(wrapper) = std::env::var_os("RUSTC_WORKSPACE_WRAPPER")
        && Path::new(&wrapper).file_name().is_some_and(|name| name == "clippy-driver")
    {
        return Ok(wrapper);
    }
    if let Some(cargo) = std::env::var_os("CARGO") {
        let beside = Path::new(&cargo).with_file_name("clippy-driver");
        if beside.is_file() {
            return Ok(beside.into_os_string());
        }
    }
    let found = output("rustup which clippy-driver", Command::new("rustup").args(["which", "clippy-driver"]))
        .map_err(|e| e.context("clippy is needed to lint the build (rustup component add clippy)"))?;
    Ok(found.trim().into())
}

/// A command's standard output, failing with its description and its stderr if it fails.
fn output(description: &str, command: &mut Command) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let output = command.output().with_context(|| format!("{description}: cannot run"))?;
    anyhow::ensure!(
        output.status.success(),
        "{description} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs a command to completion, failing with its description if it fails.
fn run_step(description: &str, command: &mut Command) -> anyhow::Result<()> {
    eprintln!("==> {description}");
    let started = std::time::Instant::now();
    let status = command.status().map_err(|e| anyhow::anyhow!("{description}: cannot run: {e}"))?;
    eprintln!("    {description}: {status} in {:.1?}", started.elapsed());
    anyhow::ensure!(status.success(), "{description} failed ({status})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_run_variable;

    #[test]
    fn the_package_variables_of_cargo_run_are_dropped_and_cargos_settings_kept() {
        for name in ["CARGO_PKG_NAME", "CARGO_PKG_VERSION_MAJOR", "CARGO_MANIFEST_DIR", "CARGO_BIN_NAME"] {
            assert!(is_run_variable(name), "{name}");
        }
        for name in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_INCREMENTAL", "RUSTC_WORKSPACE_WRAPPER"] {
            assert!(!is_run_variable(name), "{name}");
        }
    }
}
