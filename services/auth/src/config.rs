//! The auth service's configuration: the shared part plus token and hashing settings.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub service: ServiceConfig,
    /// `iss` of access tokens (AUTH_ISSUER).
    pub issuer: String,
    /// `aud` of access tokens (API_AUDIENCE).
    pub audience: String,
    /// The private key access tokens are signed with (PKCS#8 PEM, ACCESS_SIGNING_KEY_FILE).
    pub signing_key: SecretString,
    /// Its `kid` (ACCESS_SIGNING_KID; derived from the key when unset).
    pub signing_kid: String,
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token; each refresh slides it (REFRESH_TOKEN_TTL_SECS, 30 days).
    pub refresh_token_ttl: Duration,
    /// No login outlives this, however often refreshed (REFRESH_TOKEN_ABSOLUTE_SECS, 90 days).
    pub refresh_token_absolute: Duration,
    /// How many argon2 hashes may run at once (each takes ~19 MiB and a core for ~20 ms).
    pub hash_concurrency: usize,
    /// An administrator's session ends after this, however often refreshed
    /// (ADMIN_SESSION_ABSOLUTE_SECS, 8 hours).
    pub admin_session_absolute: Duration,
    /// ... or after this long without a refresh (ADMIN_SESSION_IDLE_SECS, 30 minutes).
    pub admin_session_idle: Duration,
    /// How long a just-rotated refresh token still refreshes (two tabs at once) instead of
    /// counting as reuse (REFRESH_REUSE_GRACE_SECS, 10).
    pub refresh_reuse_grace: Duration,
    /// Lifetime of admin access tokens (ADMIN_ACCESS_TOKEN_TTL_SECS, 5 minutes).
    pub admin_access_token_ttl: Duration,
    /// Key sealing TOTP seeds and key-ring private keys (AUTH_ENCRYPTION_KEY_FILE: 32 bytes base64).
    pub encryption_key: SecretString,
    /// How long a new signing key is published before it signs (KEY_PUBLISH_DELAY_SECS; longer
    /// than verifiers' JWKS refresh).
    pub key_publish_delay: Duration,
    /// How often replicas reload the key ring (KEYRING_RELOAD_SECS).
    pub keyring_reload: Duration,
    /// When a superseded key leaves the JWKS (KEY_RETIRE_AFTER_SECS); by default the longest
    /// token lifetime plus the clock leeway, so no valid token loses its key.
    pub key_retire_after: Option<Duration>,
    /// Origins (the storefront) allowed to refresh with the HttpOnly cookie (ALLOWED_ORIGINS).
    pub allowed_origins: Vec<String>,
    /// Whether the refresh cookie is `Secure` (REFRESH_COOKIE_SECURE; keep true outside tests).
    pub cookie_secure: bool,
    /// The time the key ring's rotation timeline is judged by (the system's; tests move it).
    pub clock: service_kit::Clock,
    /// Sign-in limits (LOGIN_MAX_FAILURES_PER_ACCOUNT per account and client network,
    /// LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL, LOGIN_MAX_FAILURES_PER_IP, LOGIN_MAX_WRONG_CODES,
    /// LOGIN_FAILURE_WINDOW_SECS).
    pub throttle: crate::throttle::ThrottlePolicy,
}

impl AuthConfig {
    /// Defaults for everything but the shared config and the signing key.
    pub fn new(service: ServiceConfig, signing_key: SecretString) -> Self {
        Self {
            service,
            issuer: "shopfleet-auth".into(),
            audience: "shopfleet-api".into(),
            signing_kid: crate::default_kid(&signing_key),
            signing_key,
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            refresh_token_absolute: Duration::from_secs(90 * 86_400),
            hash_concurrency: 4,
            admin_session_absolute: Duration::from_secs(8 * 3600),
            admin_session_idle: Duration::from_secs(30 * 60),
            refresh_reuse_grace: Duration::from_secs(10),
            admin_access_token_ttl: Duration::from_secs(300),
            // An ephemeral key: fine for tests, never for a deployment (from_env requires one).
            encryption_key: SecretString::from(crate::vault::Vault::generate_base64()),
            throttle: crate::throttle::ThrottlePolicy::default(),
            key_publish_delay: Duration::from_secs(360),
            keyring_reload: Duration::from_secs(30),
            key_retire_after: None,
            allowed_origins: vec!["http://localhost:3000".into()],
            cookie_secure: true,
            clock: service_kit::Clock::system(),
        }
    }

    /// The rotation timeline: a retired key leaves the JWKS once every token it signed expired.
    pub fn key_policy(&self) -> crate::keyring::KeyPolicy {
        let longest = self.access_token_ttl.max(self.admin_access_token_ttl);
        crate::keyring::KeyPolicy {
            publish_delay: self.key_publish_delay,
            retire_after: self.key_retire_after.unwrap_or(longest + Duration::from_secs(auth_jwt::DEFAULT_LEEWAY_SECS)),
            reload_every: self.keyring_reload,
            clock: self.clock.clone(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let issuer = env.optional("AUTH_ISSUER").unwrap_or_else(|| "shopfleet-auth".into());
        let audience = env.optional("API_AUDIENCE").unwrap_or_else(|| "shopfleet-api".into());
        let signing_key = env.file_contents("ACCESS_SIGNING_KEY_FILE").map(SecretString::from);
        let signing_kid = env.optional("ACCESS_SIGNING_KID");
        let access_token_ttl = env.seconds_or("ACCESS_TOKEN_TTL_SECS", 900);
        let refresh_token_ttl = env.seconds_or("REFRESH_TOKEN_TTL_SECS", 30 * 86_400);
        let refresh_token_absolute = env.seconds_or("REFRESH_TOKEN_ABSOLUTE_SECS", 90 * 86_400);
        let default_concurrency = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) * 2;
        let hash_concurrency = env.parse_or("PASSWORD_HASH_CONCURRENCY", default_concurrency);
        let admin_access_token_ttl = env.seconds_or("ADMIN_ACCESS_TOKEN_TTL_SECS", 300);
        let admin_session_absolute = env.seconds_or("ADMIN_SESSION_ABSOLUTE_SECS", 8 * 3600);
        let admin_session_idle = env.seconds_or("ADMIN_SESSION_IDLE_SECS", 30 * 60);
        let refresh_reuse_grace = env.seconds_or("REFRESH_REUSE_GRACE_SECS", 10);
        let encryption_key = env.file_contents("AUTH_ENCRYPTION_KEY_FILE").map(SecretString::from);
        let defaults = crate::throttle::ThrottlePolicy::default();
        let throttle = crate::throttle::ThrottlePolicy {
            per_account_network: env.parse_or("LOGIN_MAX_FAILURES_PER_ACCOUNT", defaults.per_account_network),
            per_account: env.parse_or("LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL", defaults.per_account),
            per_network: env.parse_or("LOGIN_MAX_FAILURES_PER_IP", defaults.per_network),
            second_factor: env.parse_or("LOGIN_MAX_WRONG_CODES", defaults.second_factor),
            window: env.seconds_or("LOGIN_FAILURE_WINDOW_SECS", defaults.window.as_secs()),
        };
        let key_publish_delay = env.seconds_or("KEY_PUBLISH_DELAY_SECS", 360);
        let keyring_reload = env.seconds_or("KEYRING_RELOAD_SECS", 30);
        let key_retire_after = env.parse_optional::<u64>("KEY_RETIRE_AFTER_SECS").map(Duration::from_secs);
        let allowed_origins: Vec<String> = env
            .optional("ALLOWED_ORIGINS")
            .unwrap_or_else(|| "http://localhost:3000".into())
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let cookie_secure = env.parse_or("REFRESH_COOKIE_SECURE", true);
        env.finish()?;
        let signing_key = signing_key.expect("checked by finish");
        Ok(Self {
            service: service.expect("checked by finish"),
            issuer,
            audience,
            signing_kid: signing_kid.unwrap_or_else(|| crate::default_kid(&signing_key)),
            signing_key,
            access_token_ttl,
            refresh_token_ttl,
            refresh_token_absolute,
            hash_concurrency,
            admin_session_absolute,
            admin_session_idle,
            refresh_reuse_grace,
            admin_access_token_ttl,
            encryption_key: encryption_key.expect("checked by finish"),
            throttle,
            key_publish_delay,
            keyring_reload,
            key_retire_after,
            allowed_origins,
            cookie_secure,
            clock: service_kit::Clock::system(),
        })
    }
}
