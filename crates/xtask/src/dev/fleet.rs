//! The fleet as processes: PostgreSQL, Redis, the fourteen services and NGINX, each in its own
//! process group that dies with us, logs prefixed with the service's name. Shared by
//! `cargo xtask up` (durable data under `.dev/`, dev ports) and the fleet test (throwaway data,
//! free ports).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use service_kit::SERVICES;
use testkit::cluster::{start_postgres, start_redis};
use testkit::procs::{signal_group, spawn_owned};

use crate::dev::nginx;

/// Where and how to run the fleet.
pub(crate) struct FleetOptions {
    /// Data, logs and rendered configs live here.
    pub run_dir: PathBuf,
    pub keys_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub pg_port: u16,
    pub redis_port: u16,
    pub nginx_port: u16,
    /// The S3 server (s3s-fs) the media service stores into.
    pub s3_port: u16,
    pub ports: BTreeMap<&'static str, u16>,
    /// Extra instances of a service (`--replicas product=3`): their ports, beyond the first.
    pub replica_ports: BTreeMap<&'static str, Vec<u16>>,
    /// fsync and an append-only file for data that should survive (`up`); off for tests.
    pub durable: bool,
    /// Also print every log line, prefixed with its process's name.
    pub echo_logs: bool,
    pub log_format: &'static str,
    /// Extra environment for every service (benchmarks raise rate limits).
    pub extra_env: Vec<(String, String)>,
    /// `cargo xtask bench catalog`: NGINX also serves this directory's files at `/__bench/`.
    pub bench_static_dir: Option<PathBuf>,
    /// The storefront stand-in the cms tells to revalidate (started with the fleet).
    pub storefront: Option<crate::dev::storefront::Receiver>,
    /// A backup (`cargo xtask backup`) restored into the fresh cluster before the services start.
    pub restore_from: Option<PathBuf>,
}

pub(crate) const DATABASE: &str = bootstrap::DATABASE;
/// The media bucket of the fleet's S3 server.
pub(crate) const BUCKET: &str = declared_default(&settings::service::media::S3_BUCKET);

/// A setting's declared default value (the fleet runs with it).
const fn declared_default(setting: &settings::Setting) -> &'static str {
    match setting.when_unset {
        settings::WhenUnset::Value(value) => value,
        _ => panic!("the setting has a default value"),
    }
}

/// A running fleet; dropping it stops everything.
pub(crate) struct Fleet {
    pub options: FleetOptions,
    children: Vec<(String, Child)>,
}

impl Fleet {
    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.options.run_dir.join("logs").join(format!("{name}.log"))
    }

    pub(crate) fn mail_dir(&self) -> PathBuf {
        self.options.run_dir.join("mail")
    }

    pub(crate) fn nginx_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.options.nginx_port)
    }

    pub(crate) fn service_url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}", self.options.ports[name])
    }

    /// A fleet run by someone else (the compose test's containers): `followers` are processes
    /// whose output is a service's log (`docker logs -f`), kept under the service's name.
    pub(crate) fn attach(options: FleetOptions, followers: Vec<(String, Child)>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(options.run_dir.join("logs"))?;
        let mut fleet = Fleet { options, children: Vec::new() };
        for (name, child) in followers {
            fleet.adopt(&name, child)?;
        }
        Ok(fleet)
    }

    /// Starts everything and waits until every service is ready.
    pub(crate) async fn start(options: FleetOptions) -> anyhow::Result<Self> {
        std::fs::create_dir_all(options.run_dir.join("logs"))?;
        let mut fleet = Fleet { options, children: Vec::new() };
        let o = &fleet.options;
        eprintln!("==> PostgreSQL on {}, Redis on {}", o.pg_port, o.redis_port);
        let postgres = start_postgres(&o.run_dir.join("postgres"), o.pg_port, o.durable).context("start PostgreSQL")?;
        fleet.children.push(("postgres".into(), postgres));
        let o = &fleet.options;
        let redis = start_redis(&o.run_dir.join("redis"), o.redis_port, o.durable).context("start Redis")?;
        fleet.children.push(("redis".into(), redis));
        let o = &fleet.options;
        eprintln!("==> S3 (s3s-fs) on {}, bucket {BUCKET}", o.s3_port);
        let (key, secret) =
            bootstrap::keys::s3_credentials(&o.keys_dir).context("the S3 credentials (cargo xtask keys)")?;
        let s3 = testkit::cluster::start_s3(&o.run_dir.join("s3"), o.s3_port, BUCKET, &key, &secret)
            .context("start the S3 server")?;
        fleet.children.push(("s3".into(), s3));
        fleet.bootstrap().await.context("bootstrap roles and schemas")?;
        if let Some(backup) = fleet.options.restore_from.clone() {
            eprintln!("==> restoring {}", backup.display());
            crate::dev::backup::restore(&fleet.stores(), &backup, &fleet.bucket_dir())
                .await
                .context("restore the backup")?;
        }
        let storefront = crate::dev::storefront::start(&fleet.options.run_dir, fleet.options.echo_logs)
            .context("start the storefront's revalidation receiver")?;
        eprintln!("==> storefront revalidation receiver at {} (calls in {})", storefront.url, storefront.log.display());
        fleet.options.storefront = Some(storefront);

        for spec in SERVICES {
            fleet.spawn_service(spec.name, fleet.options.ports[spec.name], spec.name.to_owned())?;
            for (index, port) in
                fleet.options.replica_ports.get(spec.name).cloned().unwrap_or_default().into_iter().enumerate()
            {
                fleet.spawn_service(spec.name, port, format!("{}-{}", spec.name, index + 2))?;
            }
        }
        fleet.wait_ready(Duration::from_secs(90)).await?;
        fleet.seed().context("seed the demo catalog")?;
        fleet.start_nginx()?;
        Ok(fleet)
    }

    fn stores(&self) -> bootstrap::Stores {
        bootstrap::Stores {
            postgres_admin_url: format!("postgres://postgres@127.0.0.1:{}/postgres", self.options.pg_port),
            database: DATABASE.to_owned(),
            redis_admin_url: format!("redis://127.0.0.1:{}", self.options.redis_port),
            keys_dir: self.options.keys_dir.clone(),
        }
    }

    async fn bootstrap(&self) -> anyhow::Result<()> {
        bootstrap::stores(&self.stores()).await
    }

    /// The media bucket's directory in the fleet's S3 server.
    pub(crate) fn bucket_dir(&self) -> PathBuf {
        self.options.run_dir.join("s3").join(BUCKET)
    }

    /// The environment of one service process.
    pub(crate) fn service_env(&self, name: &str) -> Vec<(String, String)> {
        service_env(&self.options, name)
    }

    /// Starts one instance of `name` listening on `port`, its logs labelled `label`.
    fn spawn_service(&mut self, name: &str, port: u16, label: String) -> anyhow::Result<()> {
        let mut command = Command::new(self.options.bin_dir.join(name));
        command
            .envs(self.service_env(name))
            .envs(self.options.extra_env.clone())
            .env(settings::shared::BIND_ADDR.name, format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = spawn_owned(command, None).with_context(|| format!("start {label}"))?;
        self.adopt(&label, child)
    }

    /// Stops a service's first instance and starts it again with `env` added to its environment,
    /// then waits until every instance is ready (benchmarks compare configurations).
    pub(crate) async fn restart_with(&mut self, name: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
        if let Some(index) = self.children.iter().position(|(label, _)| label == name) {
            let (_, mut child) = self.children.remove(index);
            child.kill()?;
            child.wait()?;
        }
        let saved = self.options.extra_env.clone();
        self.options.extra_env.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let started = self.spawn_service(name, self.options.ports[name], name.to_owned());
        self.options.extra_env = saved;
        started?;
        self.wait_ready(Duration::from_secs(60)).await
    }

    /// Kills a service's first instance with SIGKILL (no shutdown of any kind, as in a crash)
    /// and starts it again at once; `ready` waits for it.
    pub(crate) fn crash_and_restart(&mut self, name: &str) -> anyhow::Result<()> {
        if let Some(index) = self.children.iter().position(|(label, _)| label == name) {
            let (_, mut child) = self.children.remove(index);
            signal_group(&child, libc::SIGKILL);
            child.wait()?;
        }
        self.spawn_service(name, self.options.ports[name], name.to_owned())
    }

    /// Waits until every instance answers `/ready`.
    pub(crate) async fn ready(&mut self, patience: Duration) -> anyhow::Result<()> {
        self.wait_ready(patience).await
    }

    /// Deletes the gateway's rate-limit state (`rl:*`), as Redis's administrator.
    pub(crate) async fn forget_rate_limits(&self) -> anyhow::Result<()> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.options.redis_port))?;
        let mut redis = client.get_multiplexed_async_connection().await?;
        let keys: Vec<String> = redis::cmd("KEYS").arg("rl:*").query_async(&mut redis).await?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).query_async::<i64>(&mut redis).await?;
        }
        Ok(())
    }

    /// The cluster administrator's URL of the shop's database (the audit reads across schemas).
    pub(crate) fn admin_database_url(&self) -> String {
        let url = format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.options.pg_port);
        // A stack bootstrapped with secrets (the compose test) has a superuser password.
        match std::fs::read_to_string(bootstrap::secret_path(&self.options.keys_dir, "postgres-password")) {
            Ok(password) => service_kit::config::with_password(&url, password.trim()).unwrap_or(url),
            Err(_) => url,
        }
    }

    /// Every instance: (label, port).
    pub(crate) fn instances(&self) -> Vec<(String, u16)> {
        let mut all = Vec::new();
        for spec in SERVICES {
            all.push((spec.name.to_owned(), self.options.ports[spec.name]));
            for (index, port) in self.options.replica_ports.get(spec.name).into_iter().flatten().enumerate() {
                all.push((format!("{}-{}", spec.name, index + 2), *port));
            }
        }
        all
    }

    /// Keeps `child`, copying its output line by line into its log file (and the terminal).
    fn adopt(&mut self, name: &str, mut child: Child) -> anyhow::Result<()> {
        let log =
            Arc::new(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(self.log_path(name))?));
        let echo = self.options.echo_logs;
        let streams: Vec<Box<dyn std::io::Read + Send>> = [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .collect();
        for stream in streams {
            let log = log.clone();
            let prefix = format!("{name:>12} | ");
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = writeln!(log.lock().expect("log file"), "{line}");
                    if echo {
                        println!("{prefix}{line}");
                    }
                }
            });
        }
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    async fn wait_ready(&mut self, patience: Duration) -> anyhow::Result<()> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let deadline = Instant::now() + patience;
        let mut pending: Vec<(String, u16)> = self.instances();
        while !pending.is_empty() {
            for (name, child) in &mut self.children {
                if let Some(status) = child.try_wait()? {
                    anyhow::bail!(
                        "{name} exited ({status}); see {}",
                        self.options.run_dir.join("logs").join(format!("{name}.log")).display()
                    );
                }
            }
            let mut still = Vec::new();
            for (label, port) in pending {
                let url = format!("http://127.0.0.1:{port}/ready");
                let ready = http.get(&url).send().await.is_ok_and(|r| r.status().is_success());
                if !ready {
                    still.push((label, port));
                }
            }
            pending = still;
            if !pending.is_empty() {
                let names: Vec<&str> = pending.iter().map(|(label, _)| label.as_str()).collect();
                anyhow::ensure!(Instant::now() < deadline, "not ready after {patience:?}: {}", names.join(", "));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        Ok(())
    }

    /// Seeds the demo shop through each owner's own command: the catalog (product), then the
    /// stock of every demo SKU (inventory), whose STOCK_CHANGED events mark the products in stock.
    fn seed(&self) -> anyhow::Result<()> {
        for service in ["product", "inventory"] {
            let output = Command::new(self.options.bin_dir.join(service))
                .arg("seed-demo")
                .envs(self.service_env(service))
                .output()?;
            std::fs::OpenOptions::new().append(true).open(self.log_path(service))?.write_all(&output.stdout)?;
            anyhow::ensure!(
                output.status.success(),
                "{service} seed-demo failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            eprint!("{}", String::from_utf8_lossy(&output.stdout));
        }
        Ok(())
    }

    fn start_nginx(&mut self) -> anyhow::Result<()> {
        let conf = nginx_config(&self.options)?;
        let mut command = Command::new(crate::dev::install::nginx_binary());
        command
            .arg("-p")
            .arg(self.options.run_dir.join("nginx"))
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(self.options.run_dir.join("nginx/error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = spawn_owned(command, None).context("start nginx")?;
        self.adopt("nginx", child)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.options.nginx_port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "nginx did not listen on {}", self.options.nginx_port);
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// The process id of the process labelled `label` (nginx, gateway, product, ...).
    pub(crate) fn pid(&self, label: &str) -> Option<u32> {
        self.children.iter().find(|(name, _)| name == label).map(|(_, child)| child.id())
    }

    /// Every process that has exited: (label, how).
    pub(crate) fn all_exited(&mut self) -> Vec<(String, String)> {
        self.children
            .iter_mut()
            .filter_map(|(name, child)| child.try_wait().ok().flatten().map(|s| (name.clone(), s.to_string())))
            .collect()
    }

    /// SIGTERM to every process group (services first, data stores last), then SIGKILL for
    /// whatever has not stopped within ten seconds.
    pub(crate) fn stop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for (_, child) in self.children.iter().rev() {
            signal_group(child, libc::SIGTERM);
        }
        for (name, child) in self.children.iter_mut().rev() {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        eprintln!("{name} did not stop in time; killing it");
                        signal_group(child, libc::SIGKILL);
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
        self.children.clear();
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The password of a service's Redis user, derived from its internal key (as the bootstrap does).
fn redis_password(o: &FleetOptions, name: &str) -> anyhow::Result<String> {
    let pem = std::fs::read_to_string(o.keys_dir.join(format!("internal/{name}.pem")))?;
    Ok(service_kit::redis_acl::password(&pem))
}

/// The loopback address NGINX connects to the gateway from.
pub(crate) const NGINX_BIND: &str = "127.0.0.2";

pub(crate) fn service_env(o: &FleetOptions, name: &str) -> Vec<(String, String)> {
    env_for(&Placement::Local(o), name)
}

/// Where a service runs, for [`env_for`]: a local process of a fleet (`up`, the tests, the
/// compose test's host-networked containers, whose run directory is mounted at the same
/// path), or a container of the users' compose stack (service names, the `keys` volume).
pub(crate) enum Placement<'a> {
    Local(&'a FleetOptions),
    Compose,
}

/// The compose stack's addresses and mounts.
pub(crate) mod compose {
    /// The `keys` volume's mount point in every container.
    pub(crate) const KEYS: &str = "/keys";
    pub(crate) const POSTGRES: &str = "postgres:5432";
    pub(crate) const REDIS: &str = "redis:6379";
    pub(crate) const S3: &str = "http://s3:9000";
    pub(crate) const NGINX_PORT: u16 = 8080;
    pub(crate) const MAIL_HOST: &str = "mailcatcher";
    pub(crate) const MAIL_PORT: u16 = 1025;
    /// The compose network: only the shop's own containers are on it, and only NGINX forwards
    /// outside callers, so the gateway believes X-Real-IP from its addresses.
    pub(crate) const SUBNET: &str = "172.30.0.0/24";
    /// The search replica's index volume.
    pub(crate) const SEARCH_INDEX: &str = "/var/lib/shopfleet/search-index";
}

/// The environment of one service, from the one table every placement shares.
pub(crate) fn env_for(place: &Placement<'_>, name: &str) -> Vec<(String, String)> {
    let spec = service_kit::fleet::spec(name).expect("a fleet service");
    let mut env = listen_env(place, name, spec.port);
    env.extend([
        (settings::shared::INTERNAL_KEY_FILE.name.to_owned(), key_path(place, &format!("internal/{name}.pem"))),
        (settings::shared::INTERNAL_JWKS_FILE.name.to_owned(), key_path(place, "internal-jwks.json")),
        // The local fleet, the tests and the compose stack take no real orders (the sandbox's
        // test cards pay); a deployment without this variable is production.
        (settings::shared::SHOP_ENV.name.to_owned(), "development".to_owned()),
    ]);
    if name == service_kit::fleet::AUTH {
        env.extend([
            (settings::service::auth::ACCESS_SIGNING_KEY_FILE.name.to_owned(), key_path(place, "access-signing.pem")),
            (settings::service::auth::AUTH_ENCRYPTION_KEY_FILE.name.to_owned(), key_path(place, "auth-encryption.key")),
        ]);
    }
    env.extend(placement_env(place));
    if let Some(path) = secret_file(place, &format!("{name}.redis-password")) {
        env.push(("REDIS_PASSWORD_FILE".to_owned(), path));
    }
    match name {
        service_kit::fleet::PAYMENT => env.extend(payment_env(place)),
        service_kit::fleet::MEDIA => env.extend(media_env(place)),
        service_kit::fleet::SEARCH => env.extend(search_env(place)),
        _ => {}
    }
    if let Placement::Local(o) = place
        && let Some(storefront) = o.storefront.as_ref().filter(|_| name == service_kit::fleet::CMS)
    {
        env.push((settings::service::cms::STOREFRONT_REVALIDATE_URL.name.to_owned(), storefront.url.clone()));
        env.push((settings::service::cms::STOREFRONT_REVALIDATE_SECRET.name.to_owned(), storefront.secret.clone()));
    }
    if let Some(role) = spec.db_role() {
        let host = match place {
            Placement::Local(o) => format!("127.0.0.1:{}", o.pg_port),
            Placement::Compose => compose::POSTGRES.to_owned(),
        };
        env.push((settings::shared::DATABASE_URL.name.to_owned(), format!("postgres://{role}@{host}/{DATABASE}")));
        if let Some(path) = secret_file(place, &format!("{name}.database-password")) {
            env.push(("DATABASE_PASSWORD_FILE".to_owned(), path));
        }
        // The bootstrap and the service agree on the schema, default or DATABASE_SCHEMA_<NAME>.
        env.push((settings::shared::DATABASE_SCHEMA.name.to_owned(), spec.schema_name().unwrap_or_default()));
    }
    env.extend(service_urls(place));
    // The placement's settings are the fleet's; each service gets those it reads.
    env.retain(|(variable, _)| settings::reads(name, variable));
    env
}

/// A file of the key directory, where the placement has it.
fn key_path(place: &Placement<'_>, relative: &str) -> String {
    match place {
        Placement::Local(o) => o.keys_dir.join(relative).display().to_string(),
        Placement::Compose => format!("{}/{relative}", compose::KEYS),
    }
}

/// A password's file, as containers pass them: always in the compose stack; locally when the
/// stack was bootstrapped with secrets (the compose test), since the local fleet's PostgreSQL
/// trusts loopback and needs none.
fn secret_file(place: &Placement<'_>, file: &str) -> Option<String> {
    match place {
        Placement::Local(o) => {
            let path = bootstrap::secret_path(&o.keys_dir, file);
            path.exists().then(|| path.display().to_string())
        }
        Placement::Compose => Some(key_path(place, &format!("secrets/{file}"))),
    }
}

/// Where a service listens and its Redis (as its own ACL user).
fn listen_env(place: &Placement<'_>, name: &str, port: u16) -> Vec<(String, String)> {
    let redis_user = service_kit::redis_acl::user_name("", name);
    match place {
        Placement::Local(o) => vec![
            (settings::shared::BIND_ADDR.name.to_owned(), format!("127.0.0.1:{}", o.ports[name])),
            (
                settings::shared::REDIS_URL.name.to_owned(),
                format!(
                    "redis://{redis_user}:{}@127.0.0.1:{}",
                    redis_password(o, name).unwrap_or_default(),
                    o.redis_port
                ),
            ),
        ],
        Placement::Compose => vec![
            (settings::shared::BIND_ADDR.name.to_owned(), format!("0.0.0.0:{port}")),
            (settings::shared::REDIS_URL.name.to_owned(), format!("redis://{redis_user}@{}", compose::REDIS)),
        ],
    }
}

/// What differs between the local fleet and the compose stack for every service: its logs and
/// mail, the storefront, and whose X-Real-IP it believes.
fn placement_env(place: &Placement<'_>) -> Vec<(String, String)> {
    match place {
        Placement::Local(o) => vec![
            (settings::shared::LOG_FORMAT.name.to_owned(), o.log_format.to_owned()),
            (settings::service::notification::EMAIL_TRANSPORT.name.to_owned(), "file".to_owned()),
            (settings::service::notification::MAIL_DIR.name.to_owned(), o.run_dir.join("mail").display().to_string()),
            (
                settings::site::STOREFRONT_URL.name.to_owned(),
                std::env::var(settings::site::STOREFRONT_URL.name)
                    .unwrap_or_else(|_| settings::site::LOCAL_STOREFRONT.into()),
            ),
            (
                settings::shared::RUST_LOG.name.to_owned(),
                std::env::var(settings::shared::RUST_LOG.name).unwrap_or_else(|_| "info".into()),
            ),
            // NGINX reaches the gateway from its own loopback address (`proxy_bind`); only that
            // peer's X-Real-IP is believed, so a caller reaching the gateway's port directly is
            // known by its own address.
            (settings::service::gateway::TRUSTED_PROXIES.name.to_owned(), format!("{NGINX_BIND}/32")),
        ],
        Placement::Compose => vec![
            (settings::shared::LOG_FORMAT.name.to_owned(), "json".to_owned()),
            // Mail goes to the mail catcher (its inbox at http://localhost:8025).
            (settings::service::notification::EMAIL_TRANSPORT.name.to_owned(), "smtp".to_owned()),
            (settings::service::notification::SMTP_HOST.name.to_owned(), compose::MAIL_HOST.to_owned()),
            (settings::service::notification::SMTP_PORT.name.to_owned(), compose::MAIL_PORT.to_string()),
            (settings::service::notification::SMTP_TLS.name.to_owned(), "none".to_owned()),
            (settings::site::STOREFRONT_URL.name.to_owned(), settings::site::LOCAL_STOREFRONT.to_owned()),
            (settings::shared::RUST_LOG.name.to_owned(), "info".to_owned()),
            (settings::service::gateway::TRUSTED_PROXIES.name.to_owned(), compose::SUBNET.to_owned()),
        ],
    }
}

/// Payment's sandbox, its webhook secret, and the public door its verdicts come back through
/// (like a provider's).
fn payment_env(place: &Placement<'_>) -> Vec<(String, String)> {
    let secret_file = bootstrap::keys::webhook_secret_path(Path::new(""), "sandbox");
    let door = match place {
        Placement::Local(o) => format!("http://127.0.0.1:{}", o.nginx_port),
        Placement::Compose => format!("http://nginx:{}", compose::NGINX_PORT),
    };
    vec![
        (settings::service::payment::PAYMENT_PROVIDER.name.to_owned(), "sandbox".to_owned()),
        (
            settings::service::payment::PAYMENT_WEBHOOK_SECRET_FILE.name.to_owned(),
            key_path(place, &secret_file.display().to_string()),
        ),
        (
            settings::service::payment::PAYMENT_WEBHOOK_URL.name.to_owned(),
            format!("{door}/api/v1/payments/webhooks/sandbox"),
        ),
    ]
}

/// Media's S3 server, its bucket and credentials, and the public base URL NGINX serves the
/// stored renditions from (the CDN's part in production).
fn media_env(place: &Placement<'_>) -> Vec<(String, String)> {
    let (endpoint, public) = match place {
        Placement::Local(o) => {
            (format!("http://127.0.0.1:{}", o.s3_port), format!("http://127.0.0.1:{}", o.nginx_port))
        }
        Placement::Compose => (compose::S3.to_owned(), format!("http://localhost:{}", compose::NGINX_PORT)),
    };
    let mut env = vec![
        (settings::service::media::S3_ENDPOINT.name.to_owned(), endpoint),
        (settings::service::media::S3_BUCKET.name.to_owned(), BUCKET.to_owned()),
        (settings::service::media::S3_PUBLIC_BASE_URL.name.to_owned(), format!("{public}/files")),
    ];
    match place {
        Placement::Local(o) => {
            if let Ok((key, secret)) = bootstrap::keys::s3_credentials(&o.keys_dir) {
                env.push((settings::service::media::AWS_ACCESS_KEY_ID.name.to_owned(), key));
                env.push((settings::service::media::AWS_SECRET_ACCESS_KEY.name.to_owned(), secret));
            }
        }
        Placement::Compose => {
            env.push(("AWS_ACCESS_KEY_ID_FILE".to_owned(), key_path(place, "secrets/s3-access-key-id")));
            env.push(("AWS_SECRET_ACCESS_KEY_FILE".to_owned(), key_path(place, "secrets/s3-secret-access-key")));
        }
    }
    env
}

/// Search's replica and its own index, beside the rest of the run (kept across restarts).
fn search_env(place: &Placement<'_>) -> Vec<(String, String)> {
    let dir = match place {
        Placement::Local(o) => o.run_dir.join("search-index").display().to_string(),
        Placement::Compose => compose::SEARCH_INDEX.to_owned(),
    };
    vec![
        (settings::service::search::SEARCH_INDEX_DIR.name.to_owned(), dir),
        (settings::service::search::SEARCH_REPLICA.name.to_owned(), "1".to_owned()),
    ]
}

/// Every service's URLs (its replicas' too), as each service calls the others.
fn service_urls(place: &Placement<'_>) -> Vec<(String, String)> {
    SERVICES
        .iter()
        .map(|other| {
            let urls: Vec<String> = match place {
                Placement::Local(o) => std::iter::once(&o.ports[other.name])
                    .chain(o.replica_ports.get(other.name).into_iter().flatten())
                    .map(|port| format!("http://127.0.0.1:{port}"))
                    .collect(),
                Placement::Compose => vec![format!("http://{}:{}", other.name, other.port)],
            };
            (other.url_var(), urls.join(","))
        })
        .collect()
}

pub(crate) use crate::dev::ports::free_ports;

/// Options for a fleet with throwaway data and keys under a temp dir, on free ports.
pub(crate) fn throwaway_options(purpose: &str, release: bool) -> anyhow::Result<FleetOptions> {
    let run_dir = std::env::temp_dir().join(format!("shopfleet-{purpose}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run_dir);
    let keys_dir = run_dir.join("keys");
    bootstrap::keys::FleetKeys::generate().write(&keys_dir)?;
    bootstrap::keys::ensure_s3_credentials(&keys_dir)?;
    let (ports, [pg_port, redis_port, nginx_port, s3_port]) = free_ports();
    Ok(FleetOptions {
        run_dir,
        keys_dir,
        bin_dir: bin_dir(release),
        pg_port,
        redis_port,
        nginx_port,
        s3_port,
        ports,
        replica_ports: BTreeMap::new(),
        extra_env: Vec::new(),
        bench_static_dir: None,
        storefront: None,
        restore_from: None,
        durable: false,
        echo_logs: std::env::var_os("FLEET_LOG").is_some(),
        log_format: "json",
    })
}

/// Builds the service binaries, starts a throwaway fleet, runs `body` on it, stops it; the
/// logs are kept when `body` fails.
pub(crate) fn on_throwaway_fleet(
    root: &Path,
    purpose: &str,
    body: impl AsyncFnOnce(&mut Fleet) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    on_fleet(root, purpose, |_| {}, body)
}

/// [`on_throwaway_fleet`] with its options changed by `adjust` first.
pub(crate) fn on_fleet(
    root: &Path,
    purpose: &str,
    adjust: impl FnOnce(&mut FleetOptions),
    body: impl AsyncFnOnce(&mut Fleet) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // A test run's build: linted like the test build, so it reuses its artifacts.
    crate::run_step("cargo build (service binaries)", crate::linted_cargo()?.current_dir(root).args(build_args()))?;
    let mut options = throwaway_options(purpose, false)?;
    adjust(&mut options);
    let run_dir = options.run_dir.clone();
    eprintln!("==> {purpose} (logs under {})", run_dir.join("logs").display());
    let runtime = tokio::runtime::Runtime::new()?;
    let outcome = runtime.block_on(async {
        let mut fleet = Fleet::start(options).await?;
        body(&mut fleet).await
    });
    match &outcome {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&run_dir);
            eprintln!("    {purpose} passed");
        }
        Err(_) => eprintln!("    {purpose} failed; logs kept under {}", run_dir.join("logs").display()),
    }
    outcome
}

/// For `cargo xtask bench catalog` only: a location serving a file of `bench_static_dir`
/// straight from disk (the edge's physical ceiling); nothing otherwise.
fn bench_static(options: &FleetOptions) -> String {
    match &options.bench_static_dir {
        Some(dir) => format!(
            "        location ^~ /__bench/ {{\n            alias {}/;\n            default_type application/json;\n        }}\n",
            dir.display()
        ),
        None => String::new(),
    }
}

/// Writes the fleet's NGINX config under its run directory and returns its path.
pub(crate) fn nginx_config(options: &FleetOptions) -> anyhow::Result<PathBuf> {
    let root = crate::workspace_root()?;
    let run_dir = options.run_dir.join("nginx");
    std::fs::create_dir_all(&run_dir)?;
    let conf_dir = root.join("nginx").display().to_string();
    let media = options.run_dir.join("s3").join(BUCKET).join("media");
    let rendered = nginx::render_text(&nginx::Values {
        run_dir: run_dir.display().to_string(),
        access_log: run_dir.join("access.log").display().to_string(),
        error_log: run_dir.join("error.log").display().to_string(),
        listen: format!("127.0.0.1:{}", options.nginx_port),
        gateway_servers: format!("        server 127.0.0.1:{};", options.ports["gateway"]),
        proxy_bind: NGINX_BIND.to_owned(),
        master_process: "off",
        bench_static: bench_static(options),
        media_files: nginx::media_location(&media.display().to_string(), &conf_dir),
        conf_dir,
    })?;
    let path = run_dir.join("nginx.conf");
    std::fs::write(&path, rendered)?;
    Ok(path)
}

/// `cargo build` arguments for every service binary.
pub(crate) fn build_args() -> Vec<String> {
    let mut args = vec!["build".to_owned()];
    for spec in SERVICES {
        // With the workspace's version: a dependency may share a service's name (tantivy pulls
        // in a crate called `inventory`).
        args.push("-p".into());
        args.push(format!("{}@{}", spec.name, env!("CARGO_PKG_VERSION")));
    }
    args
}

/// Where cargo put the service binaries (next to this xtask binary).
pub(crate) fn bin_dir(release: bool) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let debug_dir = exe.parent().expect("target/debug").to_path_buf();
    if release { debug_dir.parent().expect("target").join("release") } else { debug_dir }
}
