//! Connections as a cluster's administrator, for the bootstrap and the tools that restore or
//! inspect a cluster.

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// Connects, waiting up to 30 s for a server that is still starting or recovering.
pub async fn connect(url: &str) -> sqlx::Result<PgConnection> {
    connect_with(&url.parse()?).await
}

/// Connects to `database` of the server `url` names (whatever database the URL names).
pub async fn connect_to(url: &str, database: &str) -> sqlx::Result<PgConnection> {
    let options: PgConnectOptions = url.parse()?;
    connect_with(&options.database(database)).await
}

async fn connect_with(options: &PgConnectOptions) -> sqlx::Result<PgConnection> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match PgConnection::connect_with(options).await {
            Err(error) if std::time::Instant::now() < deadline => {
                tracing::debug!(%error, "postgres not accepting connections yet");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            outcome => return outcome,
        }
    }
}

/// Creates `name` unless it exists. `name` must be a plain identifier.
pub async fn create_database_if_missing(admin: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    if !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(sqlx::Error::Configuration(format!("{name:?} is not a plain database name").into()));
    }
    let exists: bool = sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut *admin)
        .await?;
    if !exists {
        sqlx::query(AssertSqlSafe(format!("create database {name}"))).execute(&mut *admin).await?;
    }
    Ok(())
}
