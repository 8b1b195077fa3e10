//! Starting a service: connect what it owns, make its token minter, verifier and client, and
//! serve its router. `run_main` is all a service's `main.rs` calls.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use internal_token::{Minter, Verifier};
use observability::{LogFormat, Metrics, ReadinessCheck};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::app::{Application, ServiceRouter};
use crate::client::InternalClient;
use crate::config::{ConfigError, ServiceConfig};

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Database(#[from] crate::db::DbError),
    #[error("cannot connect to Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("internal key: {0}")]
    Key(#[from] auth_jwt::keys::KeyError),
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// A setting the service needs is absent (a schema-less service asked for a database).
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A part of the service itself failed to start (its key ring, its hasher, ...).
    #[error("{part}: {source}")]
    Part { part: &'static str, source: Box<dyn std::error::Error + Send + Sync> },
}

impl StartError {
    /// Wraps the start-up error of a part of the service, named for the operator.
    pub fn part(part: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Part { part, source: source.into() }
    }
}

pub use crate::background::Background;

/// A context without a database (the type parameter of [`Context`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDatabase;

/// A context without Redis (the type parameter of [`Context`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRedis;

/// The Redis of a service: its connection manager, the URL (consumers open their own connection
/// for blocking reads) and the key prefix every key and stream name of this service starts with.
#[derive(Clone)]
pub struct Redis {
    pub connection: crate::redis::Connection,
    /// Where it is, for connections of their own (an event consumer's blocking reads).
    pub target: crate::redis::RedisTarget,
    pub prefix: String,
}

/// What a running service holds: its config, connections, metrics and token machinery. The
/// type says what it connected: `Context<PgPool, Redis>` has both, and hands them out typed.
#[derive(Clone)]
pub struct Context<Db = NoDatabase, Cache = NoRedis> {
    pub config: ServiceConfig,
    pub db: Db,
    pub redis: Cache,
    pub metrics: Metrics,
    pub minter: Arc<Minter>,
    pub verifier: Arc<Verifier>,
    pub client: InternalClient,
    pub background: Background,
    checks: Vec<ReadinessCheck>,
}

impl Context {
    /// Makes the token minter, verifier, internal client and metrics of the service.
    pub async fn start(config: ServiceConfig) -> Result<Self, StartError> {
        let minter = Arc::new(Minter::new(
            config.name(),
            config.internal_private_key.expose_secret(),
            config.internal_token_ttl.as_secs(),
        )?);
        let verifier = Arc::new(Verifier::new(config.name(), &config.internal_jwks));
        let client = InternalClient::new(&config, minter.clone())?;
        let metrics = Metrics::new(config.name());
        Ok(Self {
            config,
            db: NoDatabase,
            redis: NoRedis,
            metrics,
            minter,
            verifier,
            client,
            background: Background::default(),
            checks: Vec::new(),
        })
    }
}

impl<Cache> Context<NoDatabase, Cache> {
    /// Connects the service's schema as its own role and applies its migrations.
    pub async fn with_database(self, migrator: &Migrator) -> Result<Context<PgPool, Cache>, StartError> {
        let database = self.config.database.as_ref().ok_or(StartError::Missing(settings::shared::DATABASE_URL.name))?;
        let db = crate::db::connect(database, Some(migrator)).await?;
        let Self { config, redis, metrics, minter, verifier, client, background, mut checks, .. } = self;
        checks.push(crate::db::readiness(db.clone()));
        Ok(Context { config, db, redis, metrics, minter, verifier, client, background, checks })
    }
}

impl<Cache> Context<PgPool, Cache> {
    /// The schema this deployment gives the service (its `search_path`).
    pub fn schema(&self) -> &str {
        self.config.database.as_ref().map_or("public", |d| d.schema.as_str())
    }
}

impl<Db> Context<Db, NoRedis> {
    /// Connects Redis (`REDIS_URL`, with the configured key prefix).
    pub async fn with_redis(self) -> Result<Context<Db, Redis>, StartError> {
        let config = self.config.redis.clone().ok_or(StartError::Missing(settings::shared::REDIS_URL.name))?;
        let connection = crate::redis::connect(&config).await?;
        let redis = Redis { connection, target: config.target(), prefix: config.key_prefix };
        let Self { config, db, metrics, minter, verifier, client, background, mut checks, .. } = self;
        checks.push(crate::redis::readiness(redis.connection.clone()));
        Ok(Context { config, db, redis, metrics, minter, verifier, client, background, checks })
    }
}

impl<Db, Cache> Context<Db, Cache> {
    /// Adds a readiness check (an event consumer's group, a loaded key set, ...).
    pub fn add_check(&mut self, check: ReadinessCheck) {
        self.checks.push(check);
    }

    /// The readiness checks of what this service connected and added.
    pub fn checks(&self) -> Vec<ReadinessCheck> {
        self.checks.clone()
    }

    /// The router shell of this service, with its readiness checks.
    pub fn router(&self) -> ServiceRouter {
        self.checks.iter().cloned().fold(ServiceRouter::new(&self.config, self.metrics.clone()), ServiceRouter::check)
    }

    /// Binds and returns the application serving `business` behind the internal-token guard,
    /// which admits the service's callers of the fleet table ([`crate::fleet::CALLERS`]).
    pub async fn serve_internal(&self, business: Router) -> Result<Application, StartError> {
        let callers = crate::fleet::callers(self.config.spec.name);
        let router = self.router().internal(self.verifier.clone(), callers, business);
        self.bind(router).await
    }

    /// Binds and returns the application serving `routes` that guard themselves (the gateway).
    pub async fn serve_public(&self, routes: Router) -> Result<Application, StartError> {
        let router = self.router().public(routes);
        self.bind(router).await
    }

    async fn bind(&self, router: Router) -> Result<Application, StartError> {
        let app = Application::bind(self.config.bind, router, self.config.shutdown_timeout).await?;
        Ok(app.with_background(self.background.clone()))
    }
}

/// What a service's `main` does: logs, start, serve until SIGTERM/Ctrl-C, exit code; or, run
/// as `<service> healthcheck`, probe the running service's `/health` (see [`crate::healthcheck`]).
pub fn run_main<F, Fut>(service: &'static str, start: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Application, StartError>>,
{
    // `<service> healthcheck`: probe the running service's own /health (container health checks).
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return crate::healthcheck::run(service, &std::env::args().skip(2).collect::<Vec<_>>());
    }
    observability::init_tracing(service, LogFormat::from_env());
    // Reports 5xx answers, panics and dead letters while the service runs (`SENTRY_DSN`).
    let _reporting = observability::errors::init_from_env(service);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{service}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let app = match start().await {
            Ok(app) => app,
            Err(error) => {
                tracing::error!(error = %problem::Chain(&error), "cannot start");
                eprintln!("{service}: cannot start: {error}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(address = %app.local_addr(), "listening");
        match app.run_until_stopped().await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!(error = %problem::Chain(&error), "server failed");
                ExitCode::FAILURE
            }
        }
    })
}

/// What a service's command-line command does (`auth create-admin`, `product seed-demo`): runs
/// `command` on a small runtime, prints what it returns on stdout, or its error on stderr and
/// exits non-zero.
pub fn run_command<F, Fut, T, E>(name: &str, command: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    T: std::fmt::Display,
    E: std::fmt::Display,
{
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command()) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}
