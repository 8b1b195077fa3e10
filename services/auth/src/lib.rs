//! The auth service: accounts (register, login), argon2id password hashing off the async
//! threads behind a concurrency bound, RS256 access tokens signed from a shared key ring with
//! rotation, the JWKS the gateway verifies them with, email verification and password reset by
//! one-time tokens, refresh-token families with rotation and reuse detection, logout (the Redis
//! revocation list), and the admin second factor (TOTP and recovery codes). Every state change
//! writes its event to the outbox in the same transaction; a relay publishes `events.auth`.

mod app;
pub mod cli;
pub mod config;
mod domain;
pub mod error;
mod events;
mod one_time;
mod password;
mod routes;
mod store;
mod throttle;
mod tokens;
pub mod vault;

use std::sync::Arc;

use secrecy::ExposeSecret;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use app::keyring;
use app::{accounts, admin, session};
pub use config::AuthConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::AUTH;

/// The job that reloads the signing keys when their files change.
const KEY_RING_RELOAD: &str = "signing key ring reload";
/// The job that prunes expired sessions.
const SESSION_PRUNE: &str = "session prune";

service_kit::fleet_service!(
    AuthConfig,
    AuthConfig::from_env,
    produces = true,
    jobs = &[KEY_RING_RELOAD, SESSION_PRUNE],
    openapi = openapi,
);

/// The auth schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/auth");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates the auth schema, loads the signing-key ring and binds the listener.
pub async fn build(config: AuthConfig) -> Result<Application, StartError> {
    let vault = Arc::new(
        vault::Vault::from_base64(config.encryption_key.expose_secret())
            .map_err(|e| StartError::part("AUTH_ENCRYPTION_KEY", e))?,
    );
    let passwords = password::PasswordHasher::new(config.hash_concurrency)
        .await
        .map_err(|e| StartError::part("password hasher", e))?;
    let mut context =
        Context::start(config.service.clone()).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    passwords.register(&context.metrics);
    let ring = keyring::KeyRing::load(
        context.db.clone(),
        vault.clone(),
        config.key_policy(),
        Some((&config.signing_kid, &config.signing_key)),
    )
    .await
    .map_err(|e| StartError::part("signing key ring", e))?;
    context.background.job(KEY_RING_RELOAD, ring.clone().spawn_reloader(context.background.stop_signal()));
    context.background.job(SESSION_PRUNE, session::spawn_pruner(context.db.clone(), context.background.stop_signal()));
    events::spawn_relay(&mut context).await?;

    let redis = &context.redis;
    let policy = session::SessionPolicy {
        customer: session::RefreshPolicy {
            ttl_secs: config.refresh_token_ttl.as_secs() as i64,
            absolute_secs: config.refresh_token_absolute.as_secs() as i64,
        },
        admin: session::RefreshPolicy {
            ttl_secs: config.admin_session_idle.as_secs() as i64,
            absolute_secs: config.admin_session_absolute.as_secs() as i64,
        },
        reuse_grace_secs: config.refresh_reuse_grace.as_secs() as i64,
    };
    let tokens = Arc::new(tokens::TokenIssuer::new(&config, ring));
    let sessions = session::Sessions::new(
        context.db.clone(),
        policy,
        tokens,
        redis.connection.clone(),
        redis.prefix.clone(),
        config.cookie_secure,
    );
    let throttle = throttle::Throttle::new(redis.connection.clone(), redis.prefix.clone(), config.throttle);
    let state = routes::AppState {
        accounts: Arc::new(accounts::Accounts::new(context.db.clone(), Arc::new(passwords), throttle, vault.clone())),
        sessions: Arc::new(sessions),
        vault,
        pool: context.db.clone(),
        allowed_origins: Arc::new(config.allowed_origins.clone()),
    };
    // The gateway calls the public routes; the notification service only fetches one-time tokens.
    context.serve_internal(routes::router(state)).await
}

/// The key id of a PEM signing key when none is configured: derived from the public key, so
/// every replica with the same key agrees on it.
pub fn default_kid(private_pem: &secrecy::SecretString) -> String {
    let jwk = auth_jwt::keys::public_jwk(private_pem.expose_secret(), "x");
    let modulus = jwk.map(|j| j.n).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, modulus.as_bytes());
    digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}
