//! The throwaway PostgreSQL cluster and Redis of a test run, and the migrated template every
//! test database is cloned from.

use std::hash::{Hash, Hasher};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::AssertSqlSafe;
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

use crate::procs::{chown_tree, postgres_user, spawn_owned};

/// The workspace root (for `migrations/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A directory for this process's servers; directories of dead test processes are swept.
fn run_dir(kind: &str) -> PathBuf {
    let base = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("shopfleet-test-").and_then(|rest| rest.split('-').next())
                && let Ok(pid) = pid.parse::<u32>()
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(format!("shopfleet-test-{}-{kind}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create run dir");
    dir
}

/// Where PostgreSQL's server binaries are: `PG_BIN`, else the newest under
/// /usr/lib/postgresql (Debian), else whatever `initdb` is on PATH.
pub fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries.flatten().map(|e| e.path().join("bin")).filter(|p| p.join("postgres").exists()).collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    versions.pop().unwrap_or_default()
}

fn wait_for_port(port: u16, what: &str, child: &mut std::process::Child) -> std::io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(std::io::Error::other(format!("{what} exited early: {status}")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(std::io::Error::other(format!("{what} did not listen on {port} within 30 s")))
}

/// Starts a PostgreSQL server on `data_dir` (initialising it if empty) on `port`, with
/// settings for throwaway data when `durable` is false. Used by the testkit and `xtask up`.
pub fn start_postgres(data_dir: &Path, port: u16, durable: bool) -> std::io::Result<std::process::Child> {
    let bin = pg_bin();
    let user = postgres_user();
    std::fs::create_dir_all(data_dir)?;
    if let Some(user) = user {
        // The parents must be traversable by the postgres user.
        let mut dir = data_dir.parent();
        while let Some(d) = dir {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(d)
                && meta.permissions().mode() & 0o001 == 0
                && d.starts_with(std::env::temp_dir())
            {
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(meta.permissions().mode() | 0o711));
            }
            dir = d.parent();
        }
        chown_tree(data_dir, user)?;
    }
    if !data_dir.join("PG_VERSION").exists() {
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args(["-D"])
            .arg(data_dir)
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let output = spawn_owned(initdb, user)?.wait_with_output()?;
        if !output.status.success() {
            return Err(std::io::Error::other(format!("initdb failed: {}", String::from_utf8_lossy(&output.stderr))));
        }
    }
    let mut postgres = Command::new(bin.join("postgres"));
    postgres
        .arg("-D")
        .arg(data_dir)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", data_dir.display()))
        .args(["-c", "max_connections=400", "-c", "shared_buffers=64MB"])
        // Statement counts per request (tests and `cargo xtask bench`) come from here.
        .args(["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=top"]);
    if !durable {
        postgres.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
    }
    postgres.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = spawn_owned(postgres, user)?;
    wait_for_port(port, "postgres", &mut child)?;
    Ok(child)
}

/// Starts redis-server on `port` with its files in `dir`.
pub fn start_redis(dir: &Path, port: u16, append_only: bool) -> std::io::Result<std::process::Child> {
    std::fs::create_dir_all(dir)?;
    let mut redis = Command::new("redis-server");
    redis
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
        .args(["--appendonly", if append_only { "yes" } else { "no" }])
        // The memory budget: when full, keys with the nearest expiry go first, so caches and
        // rate-limit windows (seconds to minutes) are evicted long before carts (30 to 90 days).
        .args(["--maxmemory", "256mb", "--maxmemory-policy", "volatile-ttl"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn_owned(redis, None)?;
    wait_for_port(port, "redis-server", &mut child)?;
    Ok(child)
}

/// The run's PostgreSQL cluster.
pub struct PgCluster {
    /// `postgres://postgres@127.0.0.1:<port>` (no database).
    base: String,
    template: OnceCell<String>,
    _child: Option<std::process::Child>,
}

impl PgCluster {
    pub fn existing(admin_url: String) -> Self {
        let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin_url);
        Self { base, template: OnceCell::new(), _child: None }
    }

    pub fn start() -> std::io::Result<Self> {
        let port = crate::unused_port();
        let child = start_postgres(&run_dir("pg").join("data"), port, false)?;
        Ok(Self {
            base: format!("postgres://postgres@127.0.0.1:{port}"),
            template: OnceCell::new(),
            _child: Some(child),
        })
    }

    pub fn admin_url_of(&self, database: &str) -> String {
        format!("{}/{database}", self.base)
    }

    pub fn url_as(&self, role: &str, database: &str) -> String {
        self.base.replacen("postgres@", &format!("{role}@"), 1) + "/" + database
    }

    /// A new database cloned from the migrated template.
    pub async fn fresh_database(&self) -> String {
        let template = self.template.get_or_init(|| self.make_template()).await.clone();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&self.admin_url_of("postgres")).await.expect("admin connection");
        sqlx::query(AssertSqlSafe(format!("create database {name} template {template}")))
            .execute(&mut admin)
            .await
            .expect("clone template");
        service_kit::bootstrap::grant_database(&mut admin, &name).await.expect("grant database");
        name
    }

    /// Creates (once per migration set, safely across processes) a database with the roles,
    /// schemas and every service's migrations applied.
    async fn make_template(&self) -> String {
        let root = workspace_root().join("migrations");
        let name = format!("tpl_{:016x}", migrations_hash(&root));
        let mut admin = PgConnection::connect(&self.admin_url_of("postgres")).await.expect("admin connection");
        sqlx::query("select pg_advisory_lock(7734001)").execute(&mut admin).await.expect("template lock");
        let exists: bool = sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("look for template");
        if !exists {
            service_kit::bootstrap::create_roles(&mut admin, |_| None).await.expect("create roles");
            let building = format!("{name}_building");
            sqlx::query(AssertSqlSafe(format!("drop database if exists {building}")))
                .execute(&mut admin)
                .await
                .expect("drop half-built");
            sqlx::query(AssertSqlSafe(format!("create database {building}")))
                .execute(&mut admin)
                .await
                .expect("create template");
            {
                let mut db = PgConnection::connect(&self.admin_url_of(&building)).await.expect("template connection");
                service_kit::bootstrap::create_schemas(&mut db, &building).await.expect("create schemas");
                db.close().await.ok();
            }
            for spec in service_kit::SERVICES {
                let dir = root.join(spec.name);
                let (Some(schema), Some(role)) = (spec.schema, spec.db_role()) else {
                    continue;
                };
                if !dir.is_dir() {
                    continue;
                }
                let migrator = Migrator::new(dir.as_path()).await.expect("read migrations");
                let url = format!("{}?options=-csearch_path%3D{schema}", self.url_as(&role, &building));
                let mut conn = PgConnection::connect(&url).await.expect("role connection");
                migrator.run(&mut conn).await.unwrap_or_else(|e| panic!("migrations of {}: {e}", spec.name));
                conn.close().await.ok();
            }
            sqlx::query(AssertSqlSafe(format!("alter database {building} rename to {name}")))
                .execute(&mut admin)
                .await
                .expect("rename template");
        }
        sqlx::query("select pg_advisory_unlock(7734001)").execute(&mut admin).await.expect("template unlock");
        name
    }
}

fn migrations_hash(root: &Path) -> u64 {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files {
        file.strip_prefix(root).unwrap_or(&file).hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

/// The run's Redis: one server, or (`SHOPFLEET_TEST_REDIS_CLUSTER=1`) a Redis Cluster, `url`
/// then listing its nodes comma-separated.
pub struct RedisServer {
    pub url: String,
    pub cluster: bool,
    _children: Vec<std::process::Child>,
}

/// The password of a service's ACL user on the test cluster.
pub fn cluster_password(service: &str) -> String {
    format!("test-{service}")
}

/// The key prefix the test cluster's ACL users are made for: any test's (`t<uuid>:`).
pub const CLUSTER_TEST_PREFIX: &str = "t*";

impl RedisServer {
    pub fn existing(url: String, cluster: bool) -> std::io::Result<Self> {
        if cluster {
            prepare_cluster_users(&url)?;
        }
        Ok(Self { url, cluster, _children: Vec::new() })
    }

    pub fn start(cluster: bool) -> std::io::Result<Self> {
        if cluster {
            let ports = [crate::unused_port(), crate::unused_port(), crate::unused_port()];
            let children = start_redis_cluster(&run_dir("redis-cluster"), ports)?;
            let url = ports.iter().map(|p| format!("redis://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
            prepare_cluster_users(&url)?;
            return Ok(Self { url, cluster, _children: children });
        }
        let port = crate::unused_port();
        let child = start_redis(&run_dir("redis"), port, false)?;
        Ok(Self { url: format!("redis://127.0.0.1:{port}"), cluster, _children: vec![child] })
    }

    /// Where a service connects: on the cluster, as its own ACL user, to every seed node.
    pub fn url_for(&self, service: &str) -> String {
        if !self.cluster {
            return self.url.clone();
        }
        let user = service_kit::redis_acl::user_name(CLUSTER_TEST_PREFIX, service);
        self.url
            .split(',')
            .map(|node| node.replacen("redis://", &format!("redis://{user}:{}@", cluster_password(service)), 1))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A connection as the administrator (the default user), to the server or the cluster.
    pub async fn admin(&self) -> events::Connection {
        events::RedisTarget::new(&self.url, self.cluster).connect().await.expect("connect to the test Redis")
    }
}

/// Every service's ACL user, for any test's key prefix, on every node of the test cluster (a
/// cluster does not share its ACL between nodes).
fn prepare_cluster_users(nodes: &str) -> std::io::Result<()> {
    for node in nodes.split(',') {
        let client = redis::Client::open(node).map_err(std::io::Error::other)?;
        let mut connection = client.get_connection().map_err(std::io::Error::other)?;
        for spec in service_kit::SERVICES {
            let mut command = redis::cmd("ACL");
            command.arg("SETUSER").arg(service_kit::redis_acl::user_name(CLUSTER_TEST_PREFIX, spec.name));
            for rule in service_kit::redis_acl::rules(CLUSTER_TEST_PREFIX, spec.name, &cluster_password(spec.name)) {
                command.arg(rule);
            }
            command.query::<()>(&mut connection).map_err(std::io::Error::other)?;
        }
    }
    Ok(())
}

/// A local Redis Cluster of three masters without replicas, from redis-server processes: every
/// slot assigned and `cluster_state:ok` on every node before it returns.
pub fn start_redis_cluster(dir: &Path, ports: [u16; 3]) -> std::io::Result<Vec<std::process::Child>> {
    let mut children = Vec::new();
    for port in ports {
        let node_dir = dir.join(port.to_string());
        std::fs::create_dir_all(&node_dir)?;
        let mut redis = Command::new("redis-server");
        redis
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--cluster-config-file"])
            .arg(node_dir.join("nodes.conf"))
            .arg("--dir")
            .arg(&node_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = spawn_owned(redis, None)?;
        wait_for_port(port, "redis-server (cluster node)", &mut child)?;
        children.push(child);
    }
    let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let created = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(&nodes)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()?;
    if !created.status.success() {
        return Err(std::io::Error::other(format!(
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        )));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for port in ports {
        loop {
            let info = Command::new("redis-cli").args(["-p", &port.to_string(), "cluster", "info"]).output()?;
            if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                break;
            }
            if std::time::Instant::now() > deadline {
                return Err(std::io::Error::other(format!(
                    "the cluster node on {port} never reached cluster_state:ok"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(children)
}

/// Starts Postfix's `smtp-sink`, a real SMTP server that stores each message it receives as a
/// file under `dir` (run as `nobody` when we are root, as smtp-sink requires).
pub fn start_smtp_sink(dir: &Path, port: u16) -> std::io::Result<std::process::Child> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))?;
    let binary = ["/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("smtp-sink");
    let mut sink = Command::new(binary);
    if crate::procs::postgres_user().is_some() {
        sink.args(["-u", "nobody"]);
    }
    sink.arg("-d")
        .arg(format!("{}/%Y%m%d%H%M%S.", dir.display()))
        .arg(format!("127.0.0.1:{port}"))
        .arg("16")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn_owned(sink, None)?;
    wait_for_port(port, "smtp-sink", &mut child)?;
    Ok(child)
}

/// The S3 server the tests and `cargo xtask up` run: s3s-fs (a real S3 implementation over a
/// directory), installed once with `cargo install` into `~/.cache/shopfleet-tools` (see
/// [`S3_SERVER_INSTALL`]) or named by `SHOPFLEET_S3_SERVER`.
pub fn s3_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SHOPFLEET_S3_SERVER") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache/shopfleet-tools/bin/s3s-fs")
}

/// The `cargo install` arguments that put the S3 server where [`s3_server_binary`] looks: a
/// debug build (with [`S3_SERVER_INSTALL_ENV`]: no debug information), plenty fast for tests
/// and a local shop, in 100 s instead of a release build's 160 on two cores.
pub const S3_SERVER_INSTALL: &[&str] =
    &["install", "s3s-fs", "--version", "0.14.1", "--features", "binary", "--locked", "--debug", "--root"];

/// The environment of that `cargo install`.
pub const S3_SERVER_INSTALL_ENV: &[(&str, &str)] = &[("CARGO_PROFILE_DEV_DEBUG", "0")];

/// Starts the S3 server on `port` over `root`, with one bucket and these credentials.
pub fn start_s3(
    root: &Path,
    port: u16,
    bucket: &str,
    access_key: &str,
    secret_key: &str,
) -> std::io::Result<std::process::Child> {
    let binary = s3_server_binary();
    if !binary.exists() {
        return Err(std::io::Error::other(format!(
            "the S3 server {} is missing: `cargo xtask test` and `.ci/run` install it (cargo install s3s-fs)",
            binary.display()
        )));
    }
    std::fs::create_dir_all(root.join(bucket))?;
    let mut server = Command::new(binary);
    server
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            access_key,
            "--secret-key",
            secret_key,
        ])
        .arg(root)
        .env(settings::shared::RUST_LOG.name, "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn_owned(server, None)?;
    wait_for_port(port, "s3s-fs", &mut child)?;
    Ok(child)
}

/// A throwaway S3 server for this test process.
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub root: PathBuf,
    _child: std::process::Child,
}

impl S3Server {
    pub fn start() -> std::io::Result<Self> {
        let port = crate::unused_port();
        let root = run_dir("s3");
        let (bucket, access_key, secret_key) = ("shopfleet-media", "shopfleet-test", "shopfleet-test-secret");
        let child = start_s3(&root, port, bucket, access_key, secret_key)?;
        Ok(Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            root,
            _child: child,
        })
    }
}
