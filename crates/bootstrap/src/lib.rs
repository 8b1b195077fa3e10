//! The one-shot bootstrap of a shop's data stores, shared by every way of running the fleet:
//! `Fleet::start` (`cargo xtask up`, the fleet and crash tests) calls [`stores`] directly, and
//! the compose stack and the Kubernetes Job run the `bootstrap` binary: `bootstrap keys` (keys
//! and secrets into the `keys` volume, before anything else starts) and `bootstrap stores`
//! (roles, database, schemas and Redis ACL users, once PostgreSQL and Redis are up).
//! Idempotent: a restart finds everything in place and changes nothing but the passwords it was
//! given. This crate links no test code: the testkit and xtask depend on it, not the reverse.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use service_kit::SERVICES;
use service_kit::config::EnvReader;
use settings::bootstrap as declared;

pub mod admin;
pub mod keys;

/// The shop's database when nothing else is named.
pub const DATABASE: &str = match declared::DATABASE_NAME.when_unset {
    settings::WhenUnset::Value(name) => name,
    _ => panic!("the database's name has a default"),
};

/// Where a bootstrap finds the stores and the keys.
pub struct Stores {
    /// The PostgreSQL superuser's URL (its password put in from `POSTGRES_PASSWORD[_FILE]`).
    pub postgres_admin_url: String,
    /// The shop's database, made if missing.
    pub database: String,
    /// Redis as its administrator (the default user); a cluster's nodes comma-separated.
    pub redis_admin_url: String,
    pub keys_dir: PathBuf,
}

/// The file of a generated secret under the keys directory.
pub fn secret_path(keys_dir: &Path, name: &str) -> PathBuf {
    keys_dir.join("secrets").join(name)
}

/// Writes `value` as a secret file readable by its owner only.
fn write_secret(path: &Path, value: &str) -> anyhow::Result<()> {
    write_file(path, value, 0o600)
}

fn write_file(path: &Path, value: &str, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("secrets/"))?;
    std::fs::write(path, value)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Secrets read by the upstream images' own users (PostgreSQL's and Redis's, not ours): they
/// are readable by every container the `keys` volume is mounted in.
const SHARED: [&str; 4] = ["postgres-password", "redis-password", "redis.conf", "users.acl"];

fn random_secret() -> String {
    auth_jwt::keys::random_bytes(24).iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes the fleet's keys under `dir` if missing, and (with `secrets`) the secret files a
/// container stack passes by file: the administrators' passwords of PostgreSQL and Redis, each
/// data-owning service's database password, each service's Redis password (derived from its
/// internal key, as the ACL expects), Redis's configuration with its ACL file, and the S3
/// credentials. Existing secrets are kept.
pub fn key_files(dir: &Path, secrets: bool) -> anyhow::Result<()> {
    if keys::FleetKeys::load(dir).is_err() {
        eprintln!("making DEV-ONLY keys in {} ...", dir.display());
        keys::FleetKeys::generate().write(dir)?;
    }
    keys::ensure_webhook_secret(dir, "sandbox")?;
    keys::ensure_s3_credentials(dir)?;
    if !secrets {
        return Ok(());
    }
    let mut random = vec!["postgres-password".to_owned(), "redis-password".to_owned()];
    random.extend(SERVICES.iter().filter(|s| s.db_role().is_some()).map(|s| format!("{}.database-password", s.name)));
    for name in random {
        let path = secret_path(dir, &name);
        if !path.exists() {
            let mode = if SHARED.contains(&name.as_str()) { 0o644 } else { 0o600 };
            write_file(&path, &random_secret(), mode)?;
        }
    }
    let mut users = Vec::new();
    for spec in SERVICES {
        let pem = std::fs::read_to_string(dir.join(format!("internal/{}.pem", spec.name)))?;
        let password = service_kit::redis_acl::password(&pem);
        write_secret(&secret_path(dir, &format!("{}.redis-password", spec.name)), &password)?;
        users.push((spec.name, password));
    }
    // Redis starts with every ACL user already in place (a restarted Redis keeps them), the
    // administrator behind its password, and an append-only file.
    let admin = std::fs::read_to_string(secret_path(dir, "redis-password"))?;
    let acl = secret_path(dir, "users.acl");
    write_file(&acl, &service_kit::redis_acl::acl_file("", &users, admin.trim()), 0o644)?;
    write_file(&secret_path(dir, "redis.conf"), &format!("aclfile {}\nappendonly yes\n", acl.display()), 0o644)?;
    let (key, secret) = keys::s3_credentials(dir)?;
    write_secret(&secret_path(dir, "s3-access-key-id"), &key)?;
    write_secret(&secret_path(dir, "s3-secret-access-key"), &secret)?;
    Ok(())
}

/// One login role per data-owning service (with its generated password when the keys
/// directory has one), the database, one schema per service, and one Redis ACL user per
/// service allowed only its own keys and commands.
pub async fn stores(stores: &Stores) -> anyhow::Result<()> {
    use admin::{connect, connect_to, create_database_if_missing};
    let password_for =
        |name: &str| std::fs::read_to_string(secret_path(&stores.keys_dir, &format!("{name}.database-password"))).ok();
    let mut admin = connect(&stores.postgres_admin_url).await.context("connect to PostgreSQL as its administrator")?;
    service_kit::bootstrap::create_roles(&mut admin, password_for).await?;
    create_database_if_missing(&mut admin, &stores.database).await?;
    let mut db = connect_to(&stores.postgres_admin_url, &stores.database).await?;
    service_kit::bootstrap::create_schemas(&mut db, &stores.database).await?;
    // Each service's Redis password from its secret file (what the Kubernetes Job is given:
    // passwords only, no signing key); derived from its internal key only where no secrets
    // were made (the local fleet).
    let users: Vec<(&str, String)> = SERVICES
        .iter()
        .map(|s| {
            let file = secret_path(&stores.keys_dir, &format!("{}.redis-password", s.name));
            if let Ok(password) = std::fs::read_to_string(&file) {
                return Ok((s.name, password.trim().to_owned()));
            }
            let pem = std::fs::read_to_string(stores.keys_dir.join(format!("internal/{}.pem", s.name)))?;
            Ok((s.name, service_kit::redis_acl::password(&pem)))
        })
        .collect::<anyhow::Result<_>>()?;
    // A Redis Cluster keeps its ACL per node: every node listed gets the users.
    for node in stores.redis_admin_url.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let mut redis = redis::aio::ConnectionManager::new(redis::Client::open(node)?)
            .await
            .with_context(|| format!("connect to Redis {node} as its administrator"))?;
        service_kit::redis_acl::apply(&mut redis, "", &users).await?;
    }
    Ok(())
}

/// `bootstrap keys|stores`, configured by the environment (the compose stack's one-shot
/// containers, the Kubernetes Job): the settings of `settings::bootstrap`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut env = EnvReader::from_env();
    let keys_dir: Option<PathBuf> = env.text(&declared::KEYS_DIR).map(Into::into);
    match args.first().map(String::as_str) {
        Some("keys") => {
            env.finish()?;
            let dir = keys_dir.expect("checked");
            key_files(&dir, true)?;
            eprintln!("keys and secrets ready in {}", dir.display());
            Ok(())
        }
        Some("stores") => {
            let postgres_admin_url = env.url_with_password(&declared::POSTGRES_ADMIN_URL, &declared::POSTGRES_PASSWORD);
            let redis_admin_url = env.url_with_password(&declared::REDIS_ADMIN_URL, &settings::shared::REDIS_PASSWORD);
            let database = env.get(&declared::DATABASE_NAME);
            env.finish()?;
            let plan = Stores {
                postgres_admin_url: postgres_admin_url.expect("checked"),
                database,
                redis_admin_url: redis_admin_url.expect("checked"),
                keys_dir: keys_dir.expect("checked"),
            };
            tokio::runtime::Runtime::new()?.block_on(stores(&plan))?;
            eprintln!("roles, schemas of {} and Redis ACL users ready", plan.database);
            Ok(())
        }
        _ => anyhow::bail!(
            "usage: bootstrap keys|stores (configured by the environment; see crates/bootstrap/src/lib.rs)"
        ),
    }
}
