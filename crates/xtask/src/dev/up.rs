//! `cargo xtask up`: the whole shop on this machine. Data lives under `.dev/` and survives a
//! restart; Ctrl-C stops everything this started.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use service_kit::SERVICES;

use crate::dev::fleet::{Fleet, FleetOptions, bin_dir, build_args};

fn port(var: &str, default: u16) -> anyhow::Result<u16> {
    match std::env::var(var) {
        Ok(raw) => raw.parse().map_err(|_| anyhow::anyhow!("{var}={raw:?} is not a port")),
        Err(_) => Ok(default),
    }
}

/// The dev fleet's options: `.dev/` (or `SHOPFLEET_DEV_DIR`), the documented ports unless
/// overridden by environment variables.
pub(crate) fn dev_options(
    root: &Path,
    release: bool,
    replicas: &[(&'static str, usize)],
) -> anyhow::Result<FleetOptions> {
    let keys_dir = root.join(".dev/keys");
    let run_dir = std::env::var_os("SHOPFLEET_DEV_DIR").map(Into::into).unwrap_or_else(|| root.join(".dev"));
    let mut ports = BTreeMap::new();
    for spec in SERVICES {
        ports.insert(spec.name, port(&format!("{}_PORT", spec.name.to_ascii_uppercase()), spec.port)?);
    }
    // Extra instances listen 100, 200, ... above the service's own port.
    let replica_ports = replicas
        .iter()
        .map(|(name, count)| (*name, (1..*count).map(|i| ports[name] + 100 * i as u16).collect()))
        .collect();
    Ok(FleetOptions {
        extra_env: Vec::new(),
        bench_static_dir: None,
        storefront: None,
        restore_from: None,
        replica_ports,
        run_dir,
        keys_dir,
        bin_dir: bin_dir(release),
        pg_port: port("PG_PORT", 5433)?,
        redis_port: port("REDIS_PORT", 6380)?,
        nginx_port: port("NGINX_PORT", 8080)?,
        s3_port: port("S3_PORT", 9000)?,
        ports,
        durable: true,
        echo_logs: true,
        log_format: if std::env::var(settings::shared::LOG_FORMAT.name).as_deref() == Ok("json") {
            "json"
        } else {
            "pretty"
        },
    })
}

/// `--replicas product=3,cart=2` (or several `--replicas` flags).
fn parse_replicas(args: &[String]) -> anyhow::Result<Vec<(&'static str, usize)>> {
    let mut replicas = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = match arg.strip_prefix("--replicas=") {
            Some(v) => v.to_owned(),
            None if arg == "--replicas" => {
                iter.next().cloned().ok_or_else(|| anyhow::anyhow!("--replicas needs NAME=COUNT"))?
            }
            None => continue,
        };
        for item in value.split(',') {
            let (name, count) =
                item.split_once('=').ok_or_else(|| anyhow::anyhow!("--replicas {item}: expected NAME=COUNT"))?;
            let spec = service_kit::fleet::spec(name.trim())
                .ok_or_else(|| anyhow::anyhow!("--replicas: no service {name}"))?;
            anyhow::ensure!(spec.name != "gateway", "--replicas: the gateway sits behind NGINX alone in dev");
            let count: usize =
                count.trim().parse().map_err(|_| anyhow::anyhow!("--replicas {item}: count must be a number"))?;
            anyhow::ensure!((1..=9).contains(&count), "--replicas {item}: from 1 to 9 instances");
            replicas.push((spec.name, count));
        }
    }
    Ok(replicas)
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let release = args.iter().any(|a| a == "--release");
    crate::dev::install::ensure_packages()?;
    crate::dev::install::ensure_s3_server()?;
    crate::dev::keys::run(root, false)?;
    let mut build = crate::cargo();
    build.current_dir(root).args(build_args());
    if release {
        build.arg("--release");
    }
    crate::run_step("cargo build (service binaries)", &mut build)?;

    let replicas = parse_replicas(args)?;
    let options = dev_options(root, release, &replicas)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let mut fleet = Fleet::start(options).await?;
        let demo = demo_login(&fleet).await;
        let admin = demo_admin(&fleet);
        print_table(&fleet, demo.as_ref(), admin.as_ref());
        let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut reported = std::collections::HashSet::new();
        loop {
            tokio::select! {
                _ = interrupt.recv() => break,
                _ = terminate.recv() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    // A service instance that dies is reported (the gateway routes around a dead
                    // replica); losing a data store or NGINX stops everything.
                    let mut fatal = false;
                    for (label, how) in fleet.all_exited() {
                        if reported.insert(label.clone()) {
                            eprintln!("xtask up: {label} exited ({how})");
                            fatal |= matches!(label.as_str(), "postgres" | "redis" | "nginx");
                        }
                    }
                    if fatal {
                        eprintln!("xtask up: stopping everything");
                        break;
                    }
                }
            }
        }
        eprintln!("\nxtask up: stopping ...");
        fleet.stop();
        eprintln!("xtask up: stopped");
        Ok(())
    })
}

/// A demo shopper account, registered through the API on first start. Its random password is
/// kept in `.dev/demo-login.txt` (git-ignored) so later starts print the same login.
async fn demo_login(fleet: &Fleet) -> Option<(String, String)> {
    let file = fleet.options.run_dir.join("demo-login.txt");
    let email = "demo@shopfleet.dev".to_owned();
    if let Ok(text) = std::fs::read_to_string(&file)
        && let Some(password) = text.lines().nth(1)
    {
        return Some((email, password.to_owned()));
    }
    let password = format!("demo-{}", uuid::Uuid::new_v4().simple());
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", fleet.nginx_url()))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .ok()?;
    if response.status().is_success() {
        std::fs::write(&file, format!("{email}\n{password}\n")).ok()?;
        Some((email, password))
    } else {
        eprintln!("xtask up: could not register the demo shopper: {}", response.status());
        None
    }
}

/// The demo administrator, made with `auth create-admin` on first start; what it printed (its
/// password, TOTP secret and recovery codes) is kept in `.dev/demo-admin.json` (git-ignored).
fn demo_admin(fleet: &Fleet) -> Option<serde_json::Value> {
    let file = fleet.options.run_dir.join("demo-admin.json");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return serde_json::from_str(&text).ok();
    }
    let output = std::process::Command::new(fleet.options.bin_dir.join("auth"))
        .args(["create-admin", "--email", "admin@shopfleet.dev"])
        .envs(fleet.service_env("auth"))
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!("xtask up: could not create the demo admin: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    std::fs::write(&file, serde_json::to_string_pretty(&created).ok()?).ok()?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
    Some(created)
}

/// `cargo xtask totp`: the demo admin's current TOTP code.
pub(crate) fn totp(root: &Path) -> anyhow::Result<()> {
    let dir = std::env::var_os("SHOPFLEET_DEV_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join(".dev"));
    let text = std::fs::read_to_string(dir.join("demo-admin.json"))
        .map_err(|_| anyhow::anyhow!("no demo admin yet: run `cargo xtask up` first"))?;
    let admin: serde_json::Value = serde_json::from_str(&text)?;
    let secret = admin["totp_secret"].as_str().ok_or_else(|| anyhow::anyhow!("demo-admin.json has no totp_secret"))?;
    println!("{}", totp::current_code(secret).ok_or_else(|| anyhow::anyhow!("the TOTP secret is not base32"))?);
    Ok(())
}

fn print_table(fleet: &Fleet, demo: Option<&(String, String)>, admin: Option<&serde_json::Value>) {
    println!();
    println!("  {:<14} {:<28} status", "service", "url");
    println!("  {:<14} {:<28} ready", "nginx", fleet.nginx_url());
    for (label, port) in fleet.instances() {
        println!("  {:<14} {:<28} ready", label, format!("http://127.0.0.1:{port}"));
    }
    let o = &fleet.options;
    println!("  {:<14} {:<28} ready", "postgres", format!("127.0.0.1:{}", o.pg_port));
    println!("  {:<14} {:<28} ready", "redis", format!("127.0.0.1:{}", o.redis_port));
    println!(
        "  {:<14} {:<28} ready (bucket {}, keys in .dev/keys/s3.env)",
        "s3",
        format!("127.0.0.1:{}", o.s3_port),
        crate::dev::fleet::BUCKET
    );
    println!();
    println!("  The shop: {}/api/v1/products", fleet.nginx_url());
    if let Some((email, password)) = demo {
        println!("  Demo shopper: {email} / {password}");
        println!(
            "    curl -s {}/api/v1/auth/login -H 'content-type: application/json' -d '{{\"email\":\"{email}\",\"password\":\"{password}\"}}'",
            fleet.nginx_url()
        );
    }
    if let Some(admin) = admin {
        println!(
            "  Demo admin: {} / {}  (second factor: `cargo xtask totp` prints the current code; details in {}/demo-admin.json)",
            admin["email"].as_str().unwrap_or_default(),
            admin["password"].as_str().unwrap_or_default(),
            o.run_dir.display()
        );
        println!(
            "    curl -s {}/api/v1/auth/admin/login -H 'content-type: application/json' -d '{{\"email\":\"{}\",\"password\":\"{}\",\"code\":\"'$(cargo xtask totp)'\"}}'",
            fleet.nginx_url(),
            admin["email"].as_str().unwrap_or_default(),
            admin["password"].as_str().unwrap_or_default()
        );
    }
    println!(
        "  Emails: {}/mail/   Logs: {}/logs/   Ctrl-C stops everything.",
        o.run_dir.display(),
        o.run_dir.display()
    );
    println!();
}

/// `cargo xtask rotate-keys`: publishes a new access-token signing key in the dev key ring (run
/// while `cargo xtask up` is up; auth starts signing with it after its publish delay).
pub(crate) fn rotate_keys(root: &Path) -> anyhow::Result<()> {
    let options = dev_options(root, false, &[])?;
    let env = crate::dev::fleet::service_env(&options, "auth");
    let output = std::process::Command::new(options.bin_dir.join("auth")).arg("rotate-keys").envs(env).output()?;
    anyhow::ensure!(output.status.success(), "auth rotate-keys failed: {}", String::from_utf8_lossy(&output.stderr));
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(())
}

/// `cargo xtask backup [DIR]`: the running `up` shop into DIR (default `.dev/backups/<time>`).
pub(crate) fn backup_command(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let options = dev_options(root, false, &[])?;
    let out = match args.first() {
        Some(dir) => PathBuf::from(dir),
        None => options.run_dir.join("backups").join(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()),
    };
    let admin = format!("postgres://postgres@127.0.0.1:{}/{}", options.pg_port, crate::dev::fleet::DATABASE);
    let bucket = options.run_dir.join("s3").join(crate::dev::fleet::BUCKET);
    let summary = tokio::runtime::Runtime::new()?.block_on(crate::dev::backup::backup(&admin, &bucket, &out))?;
    eprintln!(
        "backup in {}: {} schemas, {} media objects",
        out.display(),
        summary["schemas"].as_object().map_or(0, |s| s.len()),
        summary["media_objects"]
    );
    Ok(())
}

/// `cargo xtask restore DIR [DATA_DIR]`: DIR into a fresh cluster under DATA_DIR (default: a new
/// `.dev/`-like folder `.dev-restored/`), which `SHOPFLEET_DEV_DIR=DATA_DIR cargo xtask up` then runs.
pub(crate) fn restore_command(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let from = PathBuf::from(args.first().context("usage: cargo xtask restore BACKUP_DIR [DATA_DIR]")?);
    let data_dir = args.get(1).map(PathBuf::from).unwrap_or_else(|| root.join(".dev-restored"));
    ensure!(
        !data_dir.join("postgres").exists(),
        "{} already holds a cluster: restore goes into a fresh one",
        data_dir.display()
    );
    let keys_dir = crate::dev::keys::run(root, false)?;
    let port = testkit::unused_port();
    let mut postgres = testkit::cluster::start_postgres(&data_dir.join("postgres"), port, true)?;
    let redis_port = testkit::unused_port();
    let mut redis = testkit::cluster::start_redis(&data_dir.join("redis"), redis_port, true)?;
    let stores = bootstrap::Stores {
        postgres_admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        database: crate::dev::fleet::DATABASE.to_owned(),
        redis_admin_url: format!("redis://127.0.0.1:{redis_port}"),
        keys_dir,
    };
    let outcome = tokio::runtime::Runtime::new()?.block_on(crate::dev::backup::restore(
        &stores,
        &from,
        &data_dir.join("s3").join(crate::dev::fleet::BUCKET),
    ));
    for child in [&mut postgres, &mut redis] {
        testkit::procs::signal_group(child, libc::SIGTERM);
        let _ = child.wait();
    }
    outcome?;
    eprintln!(
        "restored {} into {}; run it with SHOPFLEET_DEV_DIR={} cargo xtask up",
        from.display(),
        data_dir.display(),
        data_dir.display()
    );
    Ok(())
}
