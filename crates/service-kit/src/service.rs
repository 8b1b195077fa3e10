//! Starting a service: connect what it owns, make its token minter, verifier and client, and
//! serve its router. `run_main` is all a service's `main.rs` calls.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use internal_token::{Minter, Verifier};
use observability::{LogFormat, Metrics, ReadinessCheck};
use redis::aio::ConnectionManager;
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
    #[error("{0}")]
    Other(String),
}

/// The background tasks of a service (event relays, consumers): told to stop on shutdown and
/// awaited, under the shutdown deadline, after in-flight requests.
#[derive(Clone)]
pub struct Background {
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    handles: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Default for Background {
    fn default() -> Self {
        Self { stop: Arc::new(tokio::sync::watch::channel(false).0), handles: Arc::default() }
    }
}

impl Background {
    /// What a task watches to know it must stop.
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub fn add(&self, handle: tokio::task::JoinHandle<()>) {
        self.handles.lock().expect("background lock").push(handle);
    }

    /// Tells every task to stop and waits for them.
    pub async fn stop_and_join(&self) {
        let _ = self.stop.send(true);
        let handles: Vec<_> = std::mem::take(&mut *self.handles.lock().expect("background lock"));
        for handle in handles {
            let _ = handle.await;
        }
    }
}

/// What a running service holds: its config, connections, metrics and token machinery.
#[derive(Clone)]
pub struct Context {
    pub config: ServiceConfig,
    pub db: Option<PgPool>,
    pub redis: Option<ConnectionManager>,
    pub metrics: Metrics,
    pub minter: Arc<Minter>,
    pub verifier: Arc<Verifier>,
    pub client: InternalClient,
    pub background: Background,
    /// Readiness checks the service adds (an event consumer's group, ...).
    pub extra_checks: Vec<ReadinessCheck>,
}

impl Context {
    /// Connects the database (applying `migrator`) when the service owns a schema, and Redis
    /// when `needs_redis`.
    pub async fn start(
        config: ServiceConfig,
        migrator: Option<&Migrator>,
        needs_redis: bool,
    ) -> Result<Self, StartError> {
        let db = match &config.database {
            Some(database) => Some(crate::db::connect(database, migrator).await?),
            None => None,
        };
        let redis = match (&config.redis, needs_redis) {
            (Some(redis), true) => Some(crate::redis::connect(redis).await?),
            (None, true) => return Err(StartError::Other("REDIS_URL is not set".into())),
            _ => None,
        };
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
            db,
            redis,
            metrics,
            minter,
            verifier,
            client,
            background: Background::default(),
            extra_checks: Vec::new(),
        })
    }

    /// The Redis connection of a service that asked for one.
    pub fn redis(&self) -> ConnectionManager {
        self.redis.clone().expect("this service connected Redis")
    }

    /// The Redis key prefix (empty unless configured).
    pub fn key_prefix(&self) -> String {
        self.config.redis.as_ref().map(|r| r.key_prefix.clone()).unwrap_or_default()
    }

    /// The pool of a data-owning service.
    pub fn pool(&self) -> PgPool {
        self.db.clone().expect("this service owns a schema, so it has a pool")
    }

    /// Readiness checks for what this service connected.
    pub fn checks(&self) -> Vec<ReadinessCheck> {
        let mut checks = Vec::new();
        if let Some(pool) = &self.db {
            checks.push(crate::db::readiness(pool.clone()));
        }
        if let Some(redis) = &self.redis {
            checks.push(crate::redis::readiness(redis.clone()));
        }
        checks.extend(self.extra_checks.iter().cloned());
        checks
    }

    /// The router shell of this service, with its readiness checks.
    pub fn router(&self) -> ServiceRouter {
        self.checks().into_iter().fold(ServiceRouter::new(&self.config, self.metrics.clone()), ServiceRouter::check)
    }

    /// Binds and returns the application serving `business` behind the internal-token guard.
    pub async fn serve_internal(
        &self,
        callers: &'static [&'static str],
        business: Router,
    ) -> Result<Application, StartError> {
        let router = self.router().internal(self.verifier.clone(), callers, business);
        let app = Application::bind(self.config.bind, router, self.config.shutdown_timeout).await?;
        Ok(app.with_background(self.background.clone()))
    }
}

/// What a service's `main` does: logs, start, serve until SIGTERM/Ctrl-C, exit code.
pub fn run_main<F, Fut>(service: &'static str, start: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Application, StartError>>,
{
    observability::init_tracing(service, LogFormat::from_env());
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
                tracing::error!(%error, "cannot start");
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
                tracing::error!(%error, "server failed");
                ExitCode::FAILURE
            }
        }
    })
}

/// A service with no routes of its own yet: it owns what it owns and answers only the
/// operational routes, refusing everything else without an internal token and answering 404
/// with one. Its domain arrives in a later issue.
pub async fn start_without_routes(config: ServiceConfig, needs_redis: bool) -> Result<Application, StartError> {
    let context = Context::start(config, None, needs_redis).await?;
    context.serve_internal(&["gateway"], Router::new()).await
}
