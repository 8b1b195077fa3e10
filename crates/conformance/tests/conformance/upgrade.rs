//! Migrations only move forward, and a database of the previous release upgrades to this one.
//!
//! `migrations/RELEASED` lists the previous release's migration files with their SHA-256. Every
//! one of them is still here, byte for byte (a changed or removed migration would break every
//! database already past it); and a database migrated by exactly those files, in a fresh schema
//! per service as its own role, takes this release's migrations on top, as a service starting
//! after an upgrade does. When a release is cut, its migrations are listed in the file.

use std::path::PathBuf;

use service_kit::SERVICES;
use sqlx::Connection as _;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace")
}

/// The previous release's migrations: (service, file name, sha256 hex).
fn released() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(root().join("migrations/RELEASED")).expect("migrations/RELEASED");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (hash, path) = line.split_once("  ").expect("`<sha256>  <service>/<file>`");
            let (service, file) = path.split_once('/').expect("<service>/<file>");
            (service.to_owned(), file.to_owned(), hash.to_owned())
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn no_released_migration_was_changed_or_removed() {
    let released = released();
    assert!(released.len() >= 20, "only {} released migrations listed", released.len());
    for (service, file, hash) in released {
        let path = root().join("migrations").join(&service).join(&file);
        let current =
            std::fs::read(&path).unwrap_or_else(|_| panic!("migrations/{service}/{file} was released and removed"));
        assert_eq!(
            sha256(&current),
            hash,
            "migrations/{service}/{file} changed after its release: add a new migration instead"
        );
    }
}

#[tokio::test]
async fn a_database_of_the_previous_release_takes_this_releases_migrations() {
    let pg = &testkit::env().pg;
    let database = format!("upgrade_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&pg.admin_url_of("postgres")).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {database}"))).execute(&mut admin).await.unwrap();
    let mut db = sqlx::PgConnection::connect(&pg.admin_url_of(&database)).await.expect("admin of the new database");
    service_kit::bootstrap::create_schemas(&mut db, &database).await.expect("schemas");
    let scratch = std::env::temp_dir().join(format!("shopfleet-{database}"));
    let released = released();
    for spec in SERVICES.iter().filter(|s| s.schema.is_some()) {
        // The previous release's files alone, as the previous release applied them.
        let dir = scratch.join(spec.name);
        std::fs::create_dir_all(&dir).unwrap();
        let mine: Vec<&(String, String, String)> = released.iter().filter(|(s, _, _)| s == spec.name).collect();
        assert!(!mine.is_empty(), "{}: no released migrations listed", spec.name);
        for (service, file, _) in &mine {
            std::fs::copy(root().join("migrations").join(service).join(file), dir.join(file)).unwrap();
        }
        let schema = spec.schema_name().unwrap();
        let options: sqlx::postgres::PgConnectOptions =
            pg.url_as(&spec.db_role().unwrap(), &database).parse().expect("a URL");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.options([("search_path", schema.as_str())]))
            .await
            .expect("the service's role");
        let previous = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
        previous
            .run(&pool)
            .await
            .unwrap_or_else(|error| panic!("{}: the previous release's migrations: {error}", spec.name));
        let current = sqlx::migrate::Migrator::new(root().join("migrations").join(spec.name).as_path()).await.unwrap();
        current.run(&pool).await.unwrap_or_else(|error| panic!("{}: upgrading: {error}", spec.name));
        let applied: i64 =
            sqlx::query_scalar("select count(*) from _sqlx_migrations where success").fetch_one(&pool).await.unwrap();
        assert_eq!(applied as usize, current.iter().count(), "{}: every migration applied once", spec.name);
        pool.close().await;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    drop(db);
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database {database} with (force)")))
        .execute(&mut admin)
        .await
        .unwrap();
}
