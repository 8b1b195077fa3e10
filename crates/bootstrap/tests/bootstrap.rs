//! The bootstrap's files and its database step, against a real PostgreSQL (the testkit's).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use service_kit::SERVICES;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn key_files_with_secrets_make_every_file_a_stack_reads_and_keep_them_on_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    bootstrap::key_files(dir.path(), true).unwrap();

    let keys = bootstrap::keys::FleetKeys::load(dir.path()).expect("the keys load back");
    assert_eq!(keys.internal_jwks.keys.len(), SERVICES.len());
    for spec in SERVICES {
        let pem = dir.path().join(format!("internal/{}.pem", spec.name));
        assert_eq!(mode(&pem), 0o600, "{}", pem.display());
        let redis = bootstrap::secret_path(dir.path(), &format!("{}.redis-password", spec.name));
        assert_eq!(read(&redis), service_kit::redis_acl::password(&read(&pem)), "derived from the internal key");
        let database = bootstrap::secret_path(dir.path(), &format!("{}.database-password", spec.name));
        assert_eq!(database.exists(), spec.db_role().is_some(), "{}", spec.name);
        if database.exists() {
            assert_eq!(mode(&database), 0o600);
            assert_eq!(read(&database).len(), 48, "24 random bytes in hex");
        }
    }
    // What PostgreSQL's and Redis's own users read is readable by them; the rest is not.
    assert_eq!(mode(&bootstrap::secret_path(dir.path(), "postgres-password")), 0o644);
    assert_eq!(mode(&bootstrap::secret_path(dir.path(), "s3-secret-access-key")), 0o600);
    let acl = read(&bootstrap::secret_path(dir.path(), "users.acl"));
    assert!(acl.starts_with("user default on #"), "the administrator behind a hashed password: {acl}");
    assert_eq!(acl.lines().count(), SERVICES.len() + 1);
    assert!(!acl.contains(&read(&bootstrap::secret_path(dir.path(), "redis-password"))), "no password in clear");
    let conf = read(&bootstrap::secret_path(dir.path(), "redis.conf"));
    assert!(conf.contains("aclfile ") && conf.contains("appendonly yes"), "{conf}");

    let before: Vec<String> = ["postgres-password", "order.database-password", "s3-access-key-id"]
        .iter()
        .map(|name| read(&bootstrap::secret_path(dir.path(), name)))
        .collect();
    let gateway_key = read(&dir.path().join("internal/gateway.pem"));
    bootstrap::key_files(dir.path(), true).unwrap();
    let after: Vec<String> = ["postgres-password", "order.database-password", "s3-access-key-id"]
        .iter()
        .map(|name| read(&bootstrap::secret_path(dir.path(), name)))
        .collect();
    assert_eq!(before, after, "a restart keeps the secrets");
    assert_eq!(gateway_key, read(&dir.path().join("internal/gateway.pem")), "and the keys");
}

#[test]
fn key_files_without_secrets_make_only_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    bootstrap::key_files(dir.path(), false).unwrap();
    assert!(bootstrap::keys::FleetKeys::load(dir.path()).is_ok());
    assert!(bootstrap::keys::s3_credentials(dir.path()).is_ok());
    assert!(!dir.path().join("secrets").exists());
}

#[test]
fn an_unknown_step_is_an_error_naming_the_usage() {
    let error = bootstrap::run(&["seed".to_owned()]).unwrap_err();
    assert!(error.to_string().contains("usage: bootstrap keys|stores"), "{error}");
}

#[tokio::test]
async fn a_database_is_created_once_and_a_name_that_is_not_plain_is_refused() {
    let admin_url = testkit::env().pg.admin_url_of("postgres");
    let mut admin = bootstrap::admin::connect(&admin_url).await.unwrap();
    let suffix: String =
        uuid::Uuid::new_v4().simple().to_string().chars().map(|c| (b'a' + (c as u8 % 26)) as char).collect();
    let name = format!("bootstrap_{suffix}");
    bootstrap::admin::create_database_if_missing(&mut admin, &name).await.unwrap();
    bootstrap::admin::create_database_if_missing(&mut admin, &name).await.expect("idempotent");
    let mut inside = bootstrap::admin::connect_to(&admin_url, &name).await.unwrap();
    let current: String = sqlx::query_scalar("select current_database()").fetch_one(&mut inside).await.unwrap();
    assert_eq!(current, name);
    drop(inside);
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database {name}"))).execute(&mut admin).await.unwrap();

    let refused = bootstrap::admin::create_database_if_missing(&mut admin, "shop; drop role x").await;
    assert!(matches!(refused, Err(sqlx::Error::Configuration(_))), "{refused:?}");
}
