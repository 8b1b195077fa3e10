//! Postgres: a pool that logs in as the service's own role with `search_path` set to its own
//! schema, and applies that service's migrations (their table lives in the same schema).

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use settings::shared;

use crate::env::EnvReader;

#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// `postgres://<role>:<password>@host:port/db?sslmode=...` — the service's own login role.
    pub url: SecretString,
    pub schema: String,
    pub max_connections: u32,
    /// Supabase's transaction-mode pooler (port 6543) cannot keep prepared statements: set
    /// `DATABASE_STATEMENT_CACHE=false` there, or use the session-mode / direct connection.
    pub statement_cache: bool,
}

impl DatabaseConfig {
    pub fn read(env: &mut EnvReader, default_schema: &str) -> Option<Self> {
        // The role's password may come apart from the address (`…_PASSWORD[_FILE]`).
        let url = env.url_with_password(&shared::DATABASE_URL, &shared::DATABASE_PASSWORD);
        let schema = env.text(&shared::DATABASE_SCHEMA).unwrap_or_else(|| default_schema.to_owned());
        if !schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            env.problem(format!("{}={schema:?} must be lowercase letters, digits and _", shared::DATABASE_SCHEMA.name));
        }
        let max_connections = env.get(&shared::DATABASE_MAX_CONNECTIONS);
        let statement_cache = env.get(&shared::DATABASE_STATEMENT_CACHE);
        Some(Self { url: SecretString::from(url?), schema, max_connections, statement_cache })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL is invalid: {0}")]
    InvalidUrl(sqlx::Error),
    #[error("cannot connect to Postgres: {0}")]
    Connect(sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How long start-up keeps retrying a database that is not up yet.
const CONNECT_PATIENCE: Duration = Duration::from_secs(15);

/// Connects (retrying briefly while Postgres starts) and applies `migrator` if given.
pub async fn connect(config: &DatabaseConfig, migrator: Option<&Migrator>) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(config.url.expose_secret())
        .map_err(DbError::InvalidUrl)?
        .options([("search_path", config.schema.as_str())])
        .statement_cache_capacity(if config.statement_cache { 100 } else { 0 });
    let pool_options =
        PgPoolOptions::new().max_connections(config.max_connections).acquire_timeout(Duration::from_secs(5));
    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
    let pool = loop {
        match pool_options.clone().connect_with(options.clone()).await {
            Ok(pool) => break pool,
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %problem::Chain(&error), "database not reachable yet, retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(DbError::Connect(error)),
        }
    };
    if let Some(migrator) = migrator {
        migrator.run(&pool).await?;
    }
    Ok(pool)
}

/// A readiness check: the pool hands out a working connection.
pub fn readiness(pool: PgPool) -> observability::ReadinessCheck {
    observability::ReadinessCheck::new("database", move || {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i32>("select 1").fetch_one(&pool).await.map(|_| ()).map_err(|e| e.to_string()) }
    })
}

/// The problem a violated named constraint means, from the service's table (`problem::Constraint`):
/// a unique index → 409, a check → 422 naming the field, and so on. `None` for any other error,
/// which the caller answers as a 500.
pub fn constraint_problem(error: &sqlx::Error, table: &[problem::Constraint]) -> Option<problem::Problem> {
    let name = error.as_database_error()?.constraint()?;
    problem::constraint_problem(table, name)
}
