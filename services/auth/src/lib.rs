//! The auth service: accounts (register, login), argon2id password hashing off the async
//! threads behind a concurrency bound, RS256 access tokens, the JWKS the gateway verifies them
//! with, email verification and password reset by one-time tokens. Every state change writes its
//! event (USER_REGISTERED, EMAIL_VERIFICATION_REQUESTED, ...) to the outbox in the same
//! transaction; a relay publishes them to `events.auth`. Refresh tokens, logout, admin TOTP and
//! key rotation arrive with the identity issue.

mod admin;
pub mod config;
mod domain;
pub mod keyring;
mod one_time;
mod password;
mod routes;
mod sessions;
mod store;
mod throttle;
mod tokens;
mod totp;
pub mod vault;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use secrecy::ExposeSecret;
use service_kit::app::Application;
use service_kit::{Context, StartError};

pub use config::AuthConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = "auth";

/// The auth schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/auth");

/// Everything a handler needs.
#[derive(Clone)]
pub(crate) struct AppState {
    pool: sqlx::PgPool,
    passwords: Arc<password::PasswordHasher>,
    tokens: Arc<tokens::TokenIssuer>,
    redis: redis::aio::ConnectionManager,
    /// Prefix of the Redis keys shared with the gateway (the revocation list).
    key_prefix: String,
    refresh: sessions::RefreshPolicy,
    vault: Arc<vault::Vault>,
    throttle: throttle::Throttle,
    allowed_origins: Arc<Vec<String>>,
    cookie_secure: bool,
}

/// Connects and migrates the auth schema, loads the signing key and binds the listener.
pub async fn build(config: AuthConfig) -> Result<Application, StartError> {
    let vault = Arc::new(
        vault::Vault::from_base64(config.encryption_key.expose_secret())
            .map_err(|e| StartError::Other(e.to_string()))?,
    );
    let throttle_policy = config.throttle;
    let refresh_policy = sessions::RefreshPolicy {
        ttl_secs: config.refresh_token_ttl.as_secs() as i64,
        absolute_secs: config.refresh_token_absolute.as_secs() as i64,
    };
    let passwords = password::PasswordHasher::new(config.hash_concurrency)
        .await
        .map_err(|e| StartError::Other(format!("password hasher: {e}")))?;
    let key_policy = config.key_policy();
    let seed = (config.signing_kid.clone(), config.signing_key.clone());
    let token_settings = config.clone();
    let context = Context::start(config.service, Some(&MIGRATOR), true).await?;
    let ring = keyring::KeyRing::load(context.pool(), vault.clone(), key_policy, Some((&seed.0, &seed.1)))
        .await
        .map_err(|e| StartError::Other(format!("signing key ring: {e}")))?;
    context.background.add(ring.clone().spawn_reloader(context.background.stop_signal()));
    let tokens = tokens::TokenIssuer::new(&token_settings, ring);
    // The relay publishes what the handlers write to the outbox (stream events.auth).
    let schema = context.config.database.as_ref().map(|d| d.schema.clone()).unwrap_or_else(|| "auth".into());
    let relay = events::Relay::new(
        context.pool(),
        context.redis(),
        events::RelayConfig::new(SERVICE, &schema, &context.key_prefix()),
        events::EventMetrics::new(&context.metrics),
    );
    context.background.add(relay.spawn(context.background.stop_signal()));
    let state = AppState {
        pool: context.pool(),
        passwords: Arc::new(passwords),
        tokens: Arc::new(tokens),
        redis: context.redis(),
        key_prefix: context.key_prefix(),
        refresh: refresh_policy,
        vault: vault.clone(),
        throttle: throttle::Throttle::new(context.redis(), context.key_prefix(), throttle_policy),
        allowed_origins: Arc::new(token_settings.allowed_origins.clone()),
        cookie_secure: token_settings.cookie_secure,
    };
    let routes = Router::new()
        .route("/auth/register", post(routes::register))
        .route("/auth/login", post(routes::login))
        .route("/auth/.well-known/jwks.json", get(routes::jwks))
        .route("/auth/verify-email", post(routes::verify_email))
        .route("/auth/password-reset", post(routes::request_password_reset))
        .route("/auth/password-reset/confirm", post(routes::confirm_password_reset))
        .route("/auth/refresh", post(routes::session::refresh))
        .route("/auth/logout", post(routes::session::logout))
        .route("/auth/logout-all", post(routes::session::logout_all))
        .route("/auth/sessions", get(routes::session::list))
        .route("/auth/admin/login", post(routes::admin::login))
        .route("/auth/admin/totp/enroll", post(routes::admin::enroll))
        .route("/auth/admin/keys/rotate", post(routes::admin::rotate_keys))
        .with_state(state);
    context.serve_internal(&["gateway"], routes).await
}

/// The key id of a PEM signing key when none is configured: derived from the public key, so
/// every replica with the same key agrees on it.
pub fn default_kid(private_pem: &secrecy::SecretString) -> String {
    let jwk = auth_jwt::keys::public_jwk(private_pem.expose_secret(), "x");
    let modulus = jwk.map(|j| j.n).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, modulus.as_bytes());
    digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `auth create-admin --email ...`: makes the first administrator of a deployment (reading the
/// same configuration as the service) and returns what must be shown once: a generated password,
/// the TOTP enrolment and the recovery codes.
pub async fn create_admin(config: &AuthConfig, email: &str) -> Result<serde_json::Value, String> {
    let vault = vault::Vault::from_base64(config.encryption_key.expose_secret()).map_err(|e| e.to_string())?;
    let database = config.service.database.as_ref().ok_or("DATABASE_URL is not set")?;
    let pool = service_kit::db::connect(database, Some(&MIGRATOR)).await.map_err(|e| e.to_string())?;
    let password: String = totp::base32(&auth_jwt::keys::random_bytes(15)).to_ascii_lowercase();
    let hasher = password::PasswordHasher::new(1).await.map_err(|e| e.to_string())?;
    let hash = hasher.hash(&secrecy::SecretString::from(password.clone())).await.map_err(|e| e.to_string())?;
    let (id, enrolment) = admin::create(&pool, &vault, email, &hash).await.map_err(|e| e.to_string())?;
    Ok(serde_json::json!({
        "id": id,
        "email": email.trim().to_lowercase(),
        "password": password,
        "totp_secret": enrolment.secret,
        "otpauth_uri": enrolment.otpauth_uri,
        "recovery_codes": enrolment.recovery_codes,
    }))
}

/// The current TOTP code for a base32 secret (what an authenticator app shows); `cargo xtask`
/// uses it to print the demo admin's code.
pub fn current_totp(secret_base32: &str) -> Option<String> {
    let secret = totp::base32_decode(secret_base32)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(format!("{:06}", totp::code_at(&secret, now / totp::STEP_SECS)))
}

/// `auth rotate-keys`: publishes a new signing key in the shared key ring (it signs after the
/// publish delay; replicas pick it up on their next reload). Returns its kid and activation time.
pub async fn rotate_keys(config: &AuthConfig) -> Result<serde_json::Value, String> {
    let vault = Arc::new(vault::Vault::from_base64(config.encryption_key.expose_secret()).map_err(|e| e.to_string())?);
    let database = config.service.database.as_ref().ok_or("DATABASE_URL is not set")?;
    let pool = service_kit::db::connect(database, Some(&MIGRATOR)).await.map_err(|e| e.to_string())?;
    let seed = (config.signing_kid.as_str(), &config.signing_key);
    let ring = keyring::KeyRing::load(pool, vault, config.key_policy(), Some(seed)).await.map_err(|e| e.to_string())?;
    let (kid, activates_at) = ring.rotate().await.map_err(|e| e.to_string())?;
    Ok(serde_json::json!({"kid": kid, "activates_at": activates_at}))
}
