//! A shop's data as one folder (what `cargo xtask backup [DIR]` and `cargo xtask restore DIR`,
//! in `up.rs`, do to the `up` shop).
//!
//! A backup holds one `pg_dump --format=custom` per data-owning service's schema
//! (`postgres/<schema>.dump`, each a consistent snapshot of that schema, which is all a service
//! ever reads or writes), a copy of the media bucket's objects (`media/`), and `backup.json`
//! (when, which schemas, each schema's last applied migration). A restore goes into a fresh
//! cluster: the bootstrap makes the roles and empty schemas, then each schema's dump is restored
//! *as its service's role* (so the role owns its tables, as if its migrations had made them),
//! without the dump's own CREATE SCHEMA; then the bucket's objects are copied back. Services
//! started afterwards find their migrations applied and carry on. `cargo xtask fleet` backs up
//! the walked shop, restores it into a new fleet and walks that one too.
//!
//! Without arguments both work on the `cargo xtask up` cluster (`.dev/`), which must be running
//! for a backup and stopped for a restore (the restore starts its own PostgreSQL on `.dev/`'s
//! port to fill it).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, ensure};
use service_kit::SERVICES;

/// The schemas of the data-owning services.
fn schemas() -> Vec<(String, String)> {
    SERVICES.iter().filter_map(|s| Some((s.schema_name()?, s.db_role()?))).collect()
}

fn pg_tool(name: &str) -> PathBuf {
    testkit::cluster::pg_bin().join(name)
}

/// `url` as libpq's environment (pg_dump and pg_restore read it; no password on a command line).
fn libpq_env(url: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let url = reqwest::Url::parse(url).context("a postgres:// URL")?;
    let mut env = vec![
        ("PGHOST", url.host_str().unwrap_or("127.0.0.1").to_owned()),
        ("PGPORT", url.port().unwrap_or(5432).to_string()),
        ("PGUSER", if url.username().is_empty() { "postgres".to_owned() } else { url.username().to_owned() }),
        ("PGDATABASE", url.path().trim_start_matches('/').to_owned()),
    ];
    if let Some(password) = url.password() {
        env.push(("PGPASSWORD", password.to_owned()));
    }
    Ok(env)
}

pub(crate) fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<u64> {
    let mut copied = 0;
    if !from.exists() {
        return Ok(0);
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::create_dir_all(to)?;
            std::fs::copy(entry.path(), &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// What a restore must bring back exactly, read from a quiet shop: its orders, accounts,
/// products, payments and audit entries.
pub(crate) async fn facts(admin_url: &str) -> anyhow::Result<serde_json::Value> {
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await?;
    let mut facts = serde_json::Map::new();
    for (name, sql) in [
        ("orders", "select count(*) from orders.orders"),
        ("accounts", "select count(*) from auth.users"),
        ("products", "select count(*) from catalog.products"),
        ("payments", "select count(*) from payments.payments"),
        ("audit_entries", "select count(*) from admin.audit_log"),
    ] {
        let count: i64 = sqlx::query_scalar(sql).fetch_one(&mut db).await.with_context(|| format!("count {name}"))?;
        facts.insert(name.to_owned(), count.into());
    }
    Ok(facts.into())
}

/// Backs up the database at `admin_url` (a superuser's URL of the shop's database) and the
/// bucket directory `bucket_dir` (s3s-fs's; for a real bucket, `aws s3 sync`) into `out`.
pub(crate) async fn backup(admin_url: &str, bucket_dir: &Path, out: &Path) -> anyhow::Result<serde_json::Value> {
    ensure!(!out.join("backup.json").exists(), "{} already holds a backup", out.display());
    std::fs::create_dir_all(out.join("postgres"))?;
    let env = libpq_env(admin_url)?;
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await?;
    let mut manifest = serde_json::Map::new();
    for (schema, _) in schemas() {
        let file = out.join("postgres").join(format!("{schema}.dump"));
        crate::output(
            &format!("pg_dump {schema}"),
            Command::new(pg_tool("pg_dump"))
                .envs(env.iter().cloned())
                .args(["--format=custom", "--schema", &schema, "--file"])
                .arg(&file),
        )?;
        let migration: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select max(version) from {schema}._sqlx_migrations where success"
        )))
        .fetch_one(&mut db)
        .await
        .ok()
        .flatten();
        manifest.insert(schema, serde_json::json!({"file": format!("postgres/{}", file.file_name().unwrap().to_string_lossy()), "last_migration": migration}));
    }
    let objects = copy_tree(bucket_dir, &out.join("media"))?;
    let summary = serde_json::json!({
        "taken_at": chrono::Utc::now().to_rfc3339(),
        "schemas": manifest,
        "media_objects": objects,
    });
    std::fs::write(out.join("backup.json"), serde_json::to_vec_pretty(&summary)?)?;
    Ok(summary)
}

/// Restores `from` into a fresh cluster: `stores` names it (its database is made), and the
/// bucket's objects go to `bucket_dir`.
pub(crate) async fn restore(stores: &bootstrap::Stores, from: &Path, bucket_dir: &Path) -> anyhow::Result<()> {
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(from.join("backup.json")).with_context(|| format!("{} holds no backup", from.display()))?,
    )?;
    bootstrap::stores(stores).await?;
    let mut url = reqwest::Url::parse(&stores.postgres_admin_url)?;
    url.set_path(&format!("/{}", stores.database));
    let env = libpq_env(url.as_str())?;
    for (schema, role) in schemas() {
        let entry = &summary["schemas"][&schema];
        let file = from.join(entry["file"].as_str().with_context(|| format!("the backup lacks {schema}"))?);
        // Everything of the dump but its CREATE SCHEMA (the bootstrap made the schema, owned by
        // the role), restored as the role.
        let list = crate::output(
            &format!("pg_restore --list {schema}"),
            Command::new(pg_tool("pg_restore")).arg("--list").arg(&file),
        )?;
        let list: String =
            list.lines().filter(|line| !line.contains(" SCHEMA - ")).map(|line| format!("{line}\n")).collect();
        // Beside the run, not in the backup (which may be read-only).
        let list_file = std::env::temp_dir().join(format!("shopfleet-restore-{}-{schema}.list", std::process::id()));
        std::fs::write(&list_file, list)?;
        let restored = crate::output(
            &format!("pg_restore {schema}"),
            Command::new(pg_tool("pg_restore"))
                .envs(env.iter().cloned())
                .args(["--no-owner", "--exit-on-error", "--single-transaction", "--role", &role])
                .args(["--dbname", &stores.database, "--use-list"])
                .arg(&list_file)
                .arg(&file),
        );
        let _ = std::fs::remove_file(&list_file);
        restored?;
    }
    copy_tree(&from.join("media"), bucket_dir)?;
    Ok(())
}
