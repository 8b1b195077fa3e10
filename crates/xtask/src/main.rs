//! `cargo xtask <command>`: the developer's and CI's entry points. Every command, its arguments
//! and what it does are declared once, in [`COMMANDS`]: `cargo xtask --help` prints that table,
//! the dispatch reads it, and a flag a command does not declare is refused before it runs.

mod bench;
mod ci;
mod dev;
mod generate;
mod ops;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// One command (a task of `cargo xtask`): its name, its arguments as `--help` shows them (every `--flag` it takes among
/// them), what it does, and its entry point (given the workspace root).
struct Task {
    name: &'static str,
    args: &'static str,
    about: &'static str,
    run: fn(&Path, &[String]) -> anyhow::Result<()>,
}

/// A command run inside the workspace.
const fn task(
    name: &'static str,
    args: &'static str,
    about: &'static str,
    run: fn(&Path, &[String]) -> anyhow::Result<()>,
) -> Task {
    Task { name, args, about, run }
}

/// Every command of `cargo xtask`, in the order `--help` lists them.
const COMMANDS: &[Task] = &[
    task(
        "keys",
        "[--force]",
        "dev key pairs into .dev/keys (git-ignored, dev-only); --force remakes them",
        |root, args| dev::keys::run(root, args.iter().any(|a| a == "--force")).map(|_| ()),
    ),
    task(
        "up",
        "[--release] [--replicas NAME=N,...]",
        "the whole shop locally: PostgreSQL, Redis, S3, fourteen services and NGINX on 8080",
        dev::up::run,
    ),
    task(
        "test",
        "",
        "formatting, every test against real servers (built under clippy), the ops checks, the fleet test",
        |root, _| ci::test::run(root),
    ),
    task("fleet", "", "only the fleet test: the walk, then the crash test (CRASH_ORDERS, default 40)", |root, _| {
        ci::fleet_test::fleet_test(root)
    }),
    task("crash", "", "only the crash test, on a fleet of its own", |root, _| ci::fleet_test::crash_test(root)),
    task(
        "bench",
        "[events|gateway|catalog|search|checkout]",
        "benchmarks on release builds, each beside its baseline; every one without an argument",
        bench::run,
    ),
    task(
        "audit",
        "[DATABASE_URL]",
        "the checkout's invariants across orders, payments and inventory (read-only; by default the up cluster)",
        |_, args| ops::audit::run(args),
    ),
    task(
        "backup",
        "[DIR]",
        "the up shop's schemas (pg_dump per schema) and media bucket into DIR",
        dev::up::backup_command,
    ),
    task("restore", "DIR [DATA_DIR]", "a backup into a fresh cluster (see dev/backup.rs)", dev::up::restore_command),
    task("openapi", "", "regenerates services/gateway/openapi.json from the services' routes", |root, _| openapi(root)),
    task(
        "deploy",
        "",
        "regenerates docker-compose.yml, deploy/compose/nginx.conf, deploy/k8s, the images workflow and README.md's settings table",
        |root, _| generate::deploy::run(root),
    ),
    task(
        "compose-test",
        "[--prepare]",
        "docker-compose.yml run with Docker and walked (skipped without an engine unless SHOPFLEET_REQUIRE_COMPOSE=1); --prepare makes only the images that need no binary of ours",
        ci::compose_test::run,
    ),
    task(
        "manifests",
        "",
        "renders both kustomize overlays and validates them (schemas, the code's tables, no sandbox in prod)",
        |root, _| ci::manifests::run(root),
    ),
    task(
        "ops",
        "",
        "promtool on the alert rules and the dashboard, the manifests, actionlint on the workflows, the build graph",
        |root, _| ops_checks(root),
    ),
    task(
        "build-graph",
        "",
        "xtask's and the service binaries' builds are parts of the test build (see build_graph.rs)",
        |root, _| ci::build_graph::check(root),
    ),
    task(
        "cloudflare-ips",
        "IPS_V4 IPS_V6",
        "refreshes nginx/cloudflare-ips.conf from Cloudflare's lists (then the deploy files that carry it)",
        |root, args| {
            dev::cloudflare::run(root, args)?;
            // The compose and Kubernetes files carry the NGINX config and its includes.
            generate::deploy::run(root)
        },
    ),
    task("totp", "", "the demo admin's current TOTP code (after up created it)", |root, _| dev::up::totp(root)),
    task("rotate-keys", "", "a new access-token signing key in the dev key ring (while up runs)", |root, _| {
        dev::up::rotate_keys(root)
    }),
];

/// The flags `args` declares (`--force` of `[--force]`, `--replicas` of `[--replicas NAME=N,...]`).
fn declared_flags(args: &str) -> Vec<&str> {
    args.split(|c: char| c.is_whitespace() || c == '[' || c == ']' || c == '|')
        .filter(|word| word.starts_with("--"))
        .map(|word| word.split('=').next().unwrap_or(word))
        .collect()
}

/// `cargo xtask --help`: every command with its arguments and what it does.
fn help() -> String {
    let mut text = String::from("usage: cargo xtask <command> [arguments]\n\ncommands:\n");
    for command in COMMANDS {
        let usage = format!("{} {}", command.name, command.args);
        text.push_str(&format!("  {:<48} {}\n", usage.trim_end(), command.about));
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or_default();
    if ["--help", "-h", "help"].contains(&name) {
        print!("{}", help());
        return ExitCode::SUCCESS;
    }
    let Some(command) = COMMANDS.iter().find(|c| c.name == name) else {
        if !name.is_empty() {
            eprintln!("xtask: no command {name:?}");
        }
        eprint!("{}", help());
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let declared = declared_flags(command.args);
    let undeclared = rest.iter().find(|a| a.starts_with("--") && !declared.contains(&a.split('=').next().unwrap_or(a)));
    if let Some(flag) = undeclared {
        eprintln!("xtask: {} takes no {flag} (usage: cargo xtask {} {})", command.name, command.name, command.args);
        return ExitCode::from(2);
    }
    finish(workspace_root().and_then(|root| (command.run)(&root, rest)))
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
fn workspace_root() -> anyhow::Result<PathBuf> {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR").map(|dir| PathBuf::from(dir).join("../.."));
    let found = from_cargo.filter(|dir| is_workspace(dir)).or_else(|| {
        let here = std::env::current_dir().ok()?;
        here.ancestors().find(|dir| is_workspace(dir)).map(Path::to_path_buf)
    });
    found.and_then(|dir| dir.canonicalize().ok()).ok_or_else(|| {
        anyhow::anyhow!("run me inside the Shopfleet workspace (no Cargo.toml with [workspace] above here)")
    })
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
    ci::monitoring::check(root)?;
    ci::manifests::run(root)?;
    ci::workflows::check(root)?;
    ci::build_graph::check(root)
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
    use super::{COMMANDS, declared_flags, help, is_run_variable};

    #[test]
    fn help_lists_every_command_once_with_its_flags() {
        let text = help();
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        for name in &names {
            let listed = text.lines().any(|line| line.split_whitespace().next() == Some(*name));
            assert!(listed, "{name} missing from:\n{text}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len(), "a command declared twice");
        for flag in ["--force", "--release", "--replicas", "--prepare"] {
            assert!(text.contains(flag), "{flag} missing from --help");
        }
    }

    #[test]
    fn flags_are_read_from_the_declared_arguments() {
        assert_eq!(declared_flags("[--release] [--replicas NAME=N,...]"), ["--release", "--replicas"]);
        assert!(declared_flags("[events|gateway]").is_empty());
        assert_eq!(declared_flags("[--force]"), ["--force"]);
    }

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
