//! `cargo xtask compose-test`: the users' `docker-compose.yml`, run for real with Docker, and the
//! fleet walk against it.
//!
//! Installs the engine and compose when missing (Debian's `docker.io`, `docker-compose`,
//! `debootstrap`), starts `dockerd` when none answers (and stops it after), makes the base image
//! `debian:bookworm-slim` with debootstrap when absent (Docker Hub cannot be reached here),
//! builds every image from the binaries the tests already built (`--target prebuilt`), and
//! stands in for the upstream PostgreSQL, Redis and NGINX images with images built from
//! Debian's packages (`deploy/compose/standins`). An override file written here (never used
//! by users) puts every container on the host's network on free 127.0.0.1 ports and mounts the
//! run directory at its own path, so the walk reads logs, mail and NGINX's access log as it does
//! for `cargo xtask fleet`. Everything is taken down at the end, volumes included; the run
//! directory is kept when the walk fails.
//!
//! Without an engine it prints SKIPPED and why, unless `SHOPFLEET_REQUIRE_COMPOSE=1` (CI),
//! which makes that a failure. `--prepare` only makes the base image and the stand-ins.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use service_kit::SERVICES;
use testkit::procs::{signal_group, spawn_owned};

use crate::dev::fleet::{Fleet, FleetOptions, Placement, env_for, free_ports};
use crate::dev::install::have;
use crate::generate::image;
use crate::output;

/// The uid of the images' user (Dockerfile): the run directory is handed to it.
const IMAGE_USER: &str = "10001:10001";

fn docker() -> Command {
    let mut command = Command::new("docker");
    // The classic builder (no buildx here).
    command.env("DOCKER_BUILDKIT", "0");
    command
}

fn quiet_ok(command: &mut Command) -> bool {
    command.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The Docker engine, and the `dockerd` this started (stopped on drop).
struct Engine {
    dockerd: Option<Child>,
}

impl Engine {
    fn ensure(run_dir: &Path) -> anyhow::Result<Self> {
        let missing: Vec<&str> =
            [("dockerd", "docker.io"), ("docker-compose", "docker-compose"), ("debootstrap", "debootstrap")]
                .into_iter()
                .filter(|(program, _)| !have(program))
                .map(|(_, package)| package)
                .collect();
        if !missing.is_empty() {
            let root = output("id -u", Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
            ensure!(root, "{} missing and not root to install them", missing.join(", "));
            crate::run_step("apt-get update", Command::new("apt-get").args(["update", "-q"]))?;
            crate::run_step(
                &format!("apt-get install {}", missing.join(" ")),
                Command::new("apt-get")
                    .args(["install", "-y", "-q", "--no-install-recommends"])
                    .args(&missing)
                    .env("DEBIAN_FRONTEND", "noninteractive"),
            )?;
        }
        if quiet_ok(docker().arg("info")) {
            return Ok(Engine { dockerd: None });
        }
        // No systemd here: start the daemon ourselves, without a bridge or firewall rules (every
        // container of the test uses the host's network on loopback).
        let log = std::fs::File::create(run_dir.join("dockerd.log"))?;
        let mut command = Command::new("dockerd");
        command
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let mut dockerd = spawn_owned(command, None).context("start dockerd")?;
        let deadline = Instant::now() + Duration::from_secs(40);
        while !quiet_ok(docker().arg("info")) {
            if let Some(status) = dockerd.try_wait()? {
                anyhow::bail!("dockerd exited ({status}); see {}", run_dir.join("dockerd.log").display());
            }
            if Instant::now() > deadline {
                signal_group(&dockerd, libc::SIGKILL);
                let _ = dockerd.wait();
                anyhow::bail!("dockerd did not answer in 40 s; see {}", run_dir.join("dockerd.log").display());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        eprintln!("    started dockerd (pid {})", dockerd.id());
        Ok(Engine { dockerd: Some(dockerd) })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut dockerd) = self.dockerd.take() {
            signal_group(&dockerd, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while dockerd.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
            if dockerd.try_wait().ok().flatten().is_none() {
                signal_group(&dockerd, libc::SIGKILL);
            }
            let _ = dockerd.wait();
        }
    }
}

/// `debian:bookworm-slim`, made with debootstrap when the engine lacks it.
fn base_image(run_dir: &Path) -> anyhow::Result<()> {
    if quiet_ok(docker().args(["image", "inspect", "debian:bookworm-slim"])) {
        return Ok(());
    }
    let rootfs = run_dir.join("rootfs");
    crate::run_step(
        "debootstrap --variant=minbase bookworm",
        Command::new("debootstrap").args(["--variant=minbase", "bookworm"]).arg(&rootfs).stdout(Stdio::null()),
    )?;
    crate::run_step(
        "docker import (debian:bookworm-slim)",
        Command::new("sh")
            .arg("-c")
            .arg(format!("tar -C '{}' -c . | docker import - debian:bookworm-slim >/dev/null", rootfs.display())),
    )?;
    std::fs::remove_dir_all(&rootfs)?;
    Ok(())
}

/// Builds one image with `dockerfile` from a context holding `bin/<name>` (stripped of debug
/// information: the image needs the code, not the symbols) and `extra` files.
fn build_prebuilt(
    root: &Path,
    run_dir: &Path,
    dockerfile: &str,
    binary: &Path,
    name: &str,
    tag: &str,
    extra: &[&str],
) -> anyhow::Result<()> {
    let context = run_dir.join("image-context").join(name);
    std::fs::create_dir_all(context.join("bin"))?;
    output(
        &format!("strip {name}"),
        Command::new("objcopy").arg("--strip-debug").arg(binary).arg(context.join("bin").join(name)),
    )?;
    for file in extra {
        let target = context.join(file);
        std::fs::create_dir_all(target.parent().expect("a folder"))?;
        std::fs::copy(root.join(file), target)?;
    }
    output(
        &format!("docker build {tag}"),
        docker()
            .args(["build", "-q", "--network", "host", "--target", "prebuilt", "-f"])
            .arg(root.join(dockerfile))
            .args(["--build-arg", &format!("SERVICE={name}"), "-t", tag])
            .arg(&context),
    )?;
    std::fs::remove_dir_all(&context)?;
    Ok(())
}

/// The stand-ins for the upstream images, built from Debian's packages.
const STANDINS: [&str; 4] = ["postgres", "redis", "nginx", "mailcatcher"];

/// What needs no binary of ours: the base image and the stand-ins (Docker's layer cache makes a
/// second build instant). `cargo xtask compose-test --prepare` does only this, so `.ci/run` runs
/// it while the tests build (debootstrap and apt are network and disk, not CPU).
fn prepare(root: &Path, run_dir: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    base_image(run_dir)?;
    for standin in STANDINS {
        let dir = root.join("deploy/compose/standins");
        output(
            &format!("docker build stand-in {standin}"),
            docker()
                .args(["build", "-q", "--network", "host", "-f"])
                .arg(dir.join(format!("{standin}.Dockerfile")))
                .args(["-t", &standin_image(standin)])
                .arg(&dir),
        )?;
    }
    eprintln!("    base image and {} stand-in images ready in {:.1?}", STANDINS.len(), started.elapsed());
    Ok(())
}

/// Every image of ours: the services and the bootstrap from the built binaries, the S3 server.
fn build_images(root: &Path, run_dir: &Path, bin_dir: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let binaries = SERVICES.iter().map(|s| s.name).chain(["bootstrap"]);
    for name in binaries {
        build_prebuilt(root, run_dir, "Dockerfile", &bin_dir.join(name), name, &image(name), &[])?;
    }
    build_prebuilt(
        root,
        run_dir,
        "deploy/compose/s3.Dockerfile",
        &testkit::cluster::s3_server_binary(),
        "s3s-fs",
        &image("s3"),
        &["deploy/compose/s3-entrypoint"],
    )?;
    // Every service, the bootstrap, the S3 server.
    eprintln!("    {} images of ours built in {:.1?}", SERVICES.len() + 2, started.elapsed());
    Ok(())
}

fn standin_image(name: &str) -> String {
    format!("shopfleet-standin/{name}:dev")
}

fn q(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| q(i)).collect::<Vec<_>>().join(", "))
}

/// The override file being written: one entry per container.
struct Override {
    out: String,
}

impl Override {
    /// A container on the host's network, with `extra` lines (image, command, health check),
    /// its volumes and its environment.
    fn service(&mut self, name: &str, extra: &str, volumes: &[&str], env: &[(String, String)]) {
        let _ = writeln!(self.out, "  {name}:\n    network_mode: host");
        self.out.push_str(extra);
        let _ =
            writeln!(self.out, "    volumes: {}", list(&volumes.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>()));
        if !env.is_empty() {
            self.out.push_str("    environment:\n");
            for (key, value) in env {
                let _ = writeln!(self.out, "      {key}: {}", q(value));
            }
        }
    }
}

/// A container's health check running `test`.
fn health(test: &[&str]) -> String {
    format!("    healthcheck:\n      test: {}\n", list(&test.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>()))
}

/// The stores on the fleet's loopback ports: PostgreSQL, Redis (with its password), the S3
/// server, and the bootstrap that prepares them.
fn stores(file: &mut Override, o: &FleetOptions, keys_ro: &str, shared: &str) {
    let postgres = format!(
        "    image: {}\n    command: [\"postgres\", \"-c\", \"listen_addresses=127.0.0.1\"]\n",
        standin_image("postgres")
    );
    file.service("postgres", &postgres, &[keys_ro], &[("PGPORT".into(), o.pg_port.to_string())]);
    let ping = format!(
        "REDISCLI_AUTH=\"$$(cat /keys/secrets/redis-password)\" redis-cli -p {} ping | grep -q PONG",
        o.redis_port
    );
    let port = o.redis_port.to_string();
    let command =
        ["redis-server", "/keys/secrets/redis.conf", "--port", &port, "--bind", "127.0.0.1"].map(str::to_owned);
    let redis = format!(
        "    image: {}\n    command: {}\n{}",
        standin_image("redis"),
        list(&command),
        health(&["CMD-SHELL", &ping])
    );
    file.service("redis", &redis, &[keys_ro], &[]);
    let s3_probe = format!("exec 3<>/dev/tcp/127.0.0.1/{}", o.s3_port);
    let s3_env = [
        ("S3_HOST".into(), "127.0.0.1".into()),
        ("S3_PORT".into(), o.s3_port.to_string()),
        ("S3_ROOT".into(), o.run_dir.join("s3").display().to_string()),
    ];
    file.service("s3", &health(&["CMD", "bash", "-c", &s3_probe]), &[keys_ro, shared], &s3_env);
    let bootstrap_env = [
        (
            settings::bootstrap::POSTGRES_ADMIN_URL.name.into(),
            format!("postgres://postgres@127.0.0.1:{}/postgres", o.pg_port),
        ),
        (settings::bootstrap::REDIS_ADMIN_URL.name.into(), format!("redis://default@127.0.0.1:{}", o.redis_port)),
    ];
    file.service("bootstrap", "", &[keys_ro], &bootstrap_env);
}

/// The mail catcher's stand-in: it stores each message it receives as a file where the walk
/// looks for mail; notification delivers to it by SMTP, as in the users' file.
fn mailcatcher(file: &mut Override, o: &FleetOptions, mail_port: u16, shared: &str) {
    let command = [
        "/usr/sbin/smtp-sink".to_owned(),
        "-d".to_owned(),
        format!("{}/%Y%m%d%H%M%S.", o.run_dir.join("mail").display()),
        format!("127.0.0.1:{mail_port}"),
        "16".to_owned(),
    ];
    let extra = format!(
        "    image: {}\n    user: \"{IMAGE_USER}\"\n    command: {}\n",
        standin_image("mailcatcher"),
        list(&command)
    );
    file.service("mailcatcher", &extra, &[shared], &[]);
}

/// NGINX with the fleet's rendered config and the repository's includes.
fn nginx(file: &mut Override, root: &Path, o: &FleetOptions, shared: &str) {
    let nginx_dir = o.run_dir.join("nginx");
    let conf = nginx_dir.join("nginx.conf");
    let nginx_probe = format!("exec 3<>/dev/tcp/127.0.0.1/{}", o.nginx_port);
    let conf_dir = root.join("nginx").display().to_string();
    let command = [
        "nginx".to_owned(),
        "-p".to_owned(),
        nginx_dir.display().to_string(),
        "-c".to_owned(),
        conf.display().to_string(),
        "-e".to_owned(),
        nginx_dir.join("error.log").display().to_string(),
        "-g".to_owned(),
        "daemon off;".to_owned(),
    ];
    let extra = format!(
        "    image: {}\n    user: \"{IMAGE_USER}\"\n    command: {}\n{}",
        standin_image("nginx"),
        list(&command),
        health(&["CMD", "bash", "-c", &nginx_probe])
    );
    file.service("nginx", &extra, &[shared, &format!("{conf_dir}:{conf_dir}:ro")], &[]);
}

/// The override: host networking on the fleet's free loopback ports, stand-in images, the run
/// directory mounted at its own path and its `keys` folder as the `keys` volume.
fn override_file(root: &Path, o: &FleetOptions, mail_port: u16) -> String {
    let run = o.run_dir.display().to_string();
    let keys = format!("{}:/keys", o.keys_dir.display());
    let keys_ro = format!("{keys}:ro");
    let shared = format!("{run}:{run}");
    let mut file = Override {
        out: String::from("# Written by `cargo xtask compose-test` for one run; not for users.\nservices:\n"),
    };
    file.service("keys", "", &[&keys], &[]);
    stores(&mut file, o, &keys_ro, &shared);
    mailcatcher(&mut file, o, mail_port, &shared);
    for spec in SERVICES {
        let mut env = env_for(&Placement::Local(o), spec.name);
        if spec.name == service_kit::fleet::NOTIFICATION {
            env.retain(|(key, _)| key != settings::service::notification::EMAIL_TRANSPORT.name);
            env.extend([
                (settings::service::notification::EMAIL_TRANSPORT.name.to_owned(), "smtp".to_owned()),
                (settings::service::notification::SMTP_HOST.name.to_owned(), "127.0.0.1".to_owned()),
                (settings::service::notification::SMTP_PORT.name.to_owned(), mail_port.to_string()),
            ]);
        }
        file.service(spec.name, "", &[&keys_ro, &shared], &env);
    }
    for (name, owner) in [("seed-catalog", "product"), ("seed-stock", "inventory")] {
        file.service(name, "", &[&keys_ro, &shared], &env_for(&Placement::Local(o), owner));
    }
    nginx(&mut file, root, o, &shared);
    file.out
}

/// The users' file without its published ports: on the host's network a container's ports are
/// the host's own, and Docker refuses to publish them. Nothing else is changed.
fn without_published_ports(compose_file: &str) -> String {
    compose_file
        .lines()
        .filter(|line| !line.trim_start().starts_with("ports:"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The compose project: `docker-compose` with both files; taken down with its volumes on drop.
struct Stack {
    root: PathBuf,
    project: String,
    compose_path: PathBuf,
    override_path: PathBuf,
}

impl Stack {
    fn compose(&self) -> Command {
        let mut command = Command::new("docker-compose");
        command
            .arg("--project-directory")
            .arg(&self.root)
            .args(["--ansi", "never", "-p", &self.project, "-f"])
            .arg(&self.compose_path)
            .arg("-f")
            .arg(&self.override_path);
        command
    }

    fn container(&self, service: &str) -> String {
        format!("{}_{service}_1", self.project)
    }

    /// `docker logs -f` of a container, as a follower for [`Fleet::attach`].
    fn follow(&self, service: &str) -> anyhow::Result<Child> {
        let mut command = Command::new("docker");
        command
            .args(["logs", "-f", &self.container(service)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Ok(spawn_owned(command, None)?)
    }

    /// Waits until a one-shot container has exited 0.
    fn wait_completed(&self, service: &str, patience: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + patience;
        loop {
            let state = output(
                &format!("docker inspect {service}"),
                docker().args(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", &self.container(service)]),
            )?;
            match state.trim() {
                "exited 0" => return Ok(()),
                s if s.starts_with("exited") => anyhow::bail!("{service} failed ({s})"),
                _ => {}
            }
            ensure!(Instant::now() < deadline, "{service} did not complete in {patience:?}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let started = Instant::now();
        let status = self
            .compose()
            .args(["down", "-v", "--remove-orphans", "--timeout", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        eprintln!("    docker-compose down -v: {status:?} in {:.1?}", started.elapsed());
    }
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let prepare_only = match args {
        [] => false,
        [flag] if flag == "--prepare" => true,
        _ => anyhow::bail!("usage: cargo xtask compose-test [--prepare]"),
    };
    let started = Instant::now();
    let run_dir = std::env::temp_dir().join(format!("shopfleet-compose-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(run_dir.join("logs"))?;
    eprintln!("==> compose test (run directory {})", run_dir.display());
    let engine = match Engine::ensure(&run_dir) {
        Ok(engine) => engine,
        Err(why) if std::env::var("SHOPFLEET_REQUIRE_COMPOSE").as_deref() != Ok("1") => {
            eprintln!("    SKIPPED: the compose test: no Docker engine: {why:#}");
            let _ = std::fs::remove_dir_all(&run_dir);
            return Ok(());
        }
        Err(why) => return Err(why.context("the compose test needs a Docker engine (SHOPFLEET_REQUIRE_COMPOSE=1)")),
    };
    let outcome = if prepare_only { prepare(root, &run_dir) } else { on_engine(root, &run_dir) };
    drop(engine);
    if prepare_only {
        match &outcome {
            Ok(()) => drop(std::fs::remove_dir_all(&run_dir)),
            Err(_) => eprintln!("    compose images failed; the engine's log kept under {}", run_dir.display()),
        }
        return outcome;
    }
    match &outcome {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&run_dir);
            eprintln!("    compose test passed in {:.1?}", started.elapsed());
        }
        Err(_) => eprintln!("    compose test failed; logs kept under {}", run_dir.join("logs").display()),
    }
    outcome
}

/// The fleet's options for the stack on the host's network: free loopback ports, the run
/// directory's folders, the storefront's receiver.
fn stack_options(run_dir: &Path, bin_dir: PathBuf) -> anyhow::Result<FleetOptions> {
    let (ports, [pg_port, redis_port, nginx_port, s3_port]) = free_ports();
    let mut options = FleetOptions {
        run_dir: run_dir.to_owned(),
        keys_dir: run_dir.join("keys"),
        bin_dir,
        pg_port,
        redis_port,
        nginx_port,
        s3_port,
        ports,
        replica_ports: Default::default(),
        durable: false,
        echo_logs: std::env::var_os("FLEET_LOG").is_some(),
        log_format: "json",
        extra_env: Vec::new(),
        bench_static_dir: None,
        storefront: None,
        restore_from: None,
    };
    options.storefront = Some(crate::dev::storefront::start(run_dir, options.echo_logs)?);
    for dir in ["keys", "mail", "s3", "nginx", "search-index"] {
        std::fs::create_dir_all(run_dir.join(dir))?;
    }
    Ok(options)
}

fn on_engine(root: &Path, run_dir: &Path) -> anyhow::Result<()> {
    let mut build = crate::linted_cargo()?;
    build.current_dir(root).args(crate::dev::fleet::build_args()).args(["-p", "bootstrap"]);
    crate::run_step("cargo build (service binaries and the bootstrap)", &mut build)?;
    prepare(root, run_dir)?;
    let bin_dir = crate::dev::fleet::bin_dir(false);
    build_images(root, run_dir, &bin_dir)?;
    let options = stack_options(run_dir, bin_dir)?;
    let nginx_port = options.nginx_port;
    crate::dev::fleet::nginx_config(&options)?;
    let override_path = run_dir.join("compose.override.yml");
    std::fs::write(&override_path, override_file(root, &options, crate::dev::ports::unreserved_port()?))?;
    // The containers run as the images' user and write here.
    output("chown the run directory", Command::new("chown").args(["-R", IMAGE_USER]).arg(run_dir))?;

    let compose_path = run_dir.join("docker-compose.yml");
    std::fs::write(&compose_path, without_published_ports(&std::fs::read_to_string(root.join("docker-compose.yml"))?))?;
    let stack = Stack {
        root: root.to_owned(),
        project: format!("shopfleetci{}", std::process::id()),
        compose_path,
        override_path,
    };
    let services: Vec<String> = ["keys", "postgres", "redis", "s3", "mailcatcher", "bootstrap"]
        .into_iter()
        .map(str::to_owned)
        .chain(SERVICES.iter().map(|s| s.name.to_owned()))
        .chain(["seed-catalog", "seed-stock", "nginx"].map(str::to_owned))
        .collect();
    let up_started = Instant::now();
    let up = stack.compose().args(["up", "-d", "--no-build"]).args(&services).output()?;
    std::fs::write(run_dir.join("logs/compose-up.log"), [&up.stdout[..], &up.stderr[..]].concat())?;
    if !up.status.success() {
        let logs = stack.compose().args(["logs", "--no-color", "--tail", "40"]).output()?;
        std::fs::write(run_dir.join("logs/compose.log"), &logs.stdout)?;
        anyhow::bail!(
            "docker-compose up failed: {}\n(last lines of every container in {})",
            String::from_utf8_lossy(&up.stderr).trim(),
            run_dir.join("logs/compose.log").display()
        );
    }
    stack.wait_completed("seed-stock", Duration::from_secs(120))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", nginx_port)).is_err() {
        ensure!(Instant::now() < deadline, "NGINX did not listen on {nginx_port}");
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "    docker-compose up: {} containers healthy, demo data seeded, in {:.1?}",
        services.len(),
        up_started.elapsed()
    );

    let mut followers = Vec::new();
    for name in services.iter() {
        followers.push((name.clone(), stack.follow(name)?));
    }
    let fleet = Fleet::attach(options, followers)?;
    let walk_started = Instant::now();
    let walked = tokio::runtime::Runtime::new()?.block_on(crate::ci::fleet_walk::walk(&fleet));
    if walked.is_ok() {
        eprintln!("    the fleet walk against the compose stack passed in {:.1?}", walk_started.elapsed());
    }
    drop(fleet);
    drop(stack);
    walked
}
