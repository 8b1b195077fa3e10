//! The auth service's configuration: the shared part plus token and hashing settings.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::auth as declared;
use settings::site::{API_AUDIENCE, AUTH_ISSUER};

#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub service: ServiceConfig,
    /// `iss` of access tokens.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    /// The private key access tokens are signed with (PKCS#8 PEM).
    pub signing_key: SecretString,
    /// Its `kid` (derived from the key when unset).
    pub signing_kid: String,
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token; each refresh slides it.
    pub refresh_token_ttl: Duration,
    /// No login outlives this, however often refreshed.
    pub refresh_token_absolute: Duration,
    /// How many argon2 hashes may run at once (each takes ~19 MiB and a core for ~20 ms).
    pub hash_concurrency: usize,
    /// An administrator's session ends after this, however often refreshed.
    pub admin_session_absolute: Duration,
    /// ... or after this long without a refresh.
    pub admin_session_idle: Duration,
    /// How long a just-rotated refresh token still refreshes (two tabs at once) instead of
    /// counting as reuse.
    pub refresh_reuse_grace: Duration,
    /// Lifetime of admin access tokens.
    pub admin_access_token_ttl: Duration,
    /// Key sealing TOTP seeds and key-ring private keys (32 bytes, base64).
    pub encryption_key: SecretString,
    /// How long a new signing key is published before it signs (longer than verifiers' JWKS
    /// refresh).
    pub key_publish_delay: Duration,
    /// How often replicas reload the key ring.
    pub keyring_reload: Duration,
    /// When a superseded key leaves the JWKS: by default the longest
    /// token lifetime plus the clock leeway, so no valid token loses its key.
    pub key_retire_after: Option<Duration>,
    /// Origins (the storefront) allowed to refresh with the HttpOnly cookie.
    pub allowed_origins: Vec<String>,
    /// Whether the refresh cookie is `Secure` (keep it outside tests).
    pub cookie_secure: bool,
    /// The time the key ring's rotation timeline is judged by (the system's; tests move it).
    pub clock: service_kit::Clock,
    /// Sign-in limits.
    pub throttle: crate::throttle::ThrottlePolicy,
}

impl AuthConfig {
    /// The declared defaults for everything but the shared config and the signing key; the
    /// sealing key is an ephemeral one (fine for tests, never for a deployment: `from_env`
    /// requires one).
    pub fn new(service: ServiceConfig, signing_key: SecretString) -> Self {
        let encryption_key = SecretString::from(crate::vault::Vault::generate_base64());
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service), Some((signing_key, encryption_key))))
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
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), |env, service| {
            let signing_key = env.file(&declared::ACCESS_SIGNING_KEY_FILE).map(SecretString::from);
            let encryption_key = env.file(&declared::AUTH_ENCRYPTION_KEY_FILE).map(SecretString::from);
            let keys = signing_key.zip(encryption_key);
            Self::read(env, service, keys)
        })
    }

    /// Everything but the two keys, which `keys` brings (the signing key, the sealing key).
    fn read(
        env: &mut EnvReader,
        service: Option<ServiceConfig>,
        keys: Option<(SecretString, SecretString)>,
    ) -> Option<Self> {
        let issuer = env.get(&AUTH_ISSUER);
        let audience = env.get(&API_AUDIENCE);
        let signing_kid = env.text(&declared::ACCESS_SIGNING_KID);
        let access_token_ttl = env.seconds(&declared::ACCESS_TOKEN_TTL_SECS);
        let refresh_token_ttl = env.seconds(&declared::REFRESH_TOKEN_TTL_SECS);
        let refresh_token_absolute = env.seconds(&declared::REFRESH_TOKEN_ABSOLUTE_SECS);
        let hash_concurrency = env
            .parse(&declared::PASSWORD_HASH_CONCURRENCY)
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) * 2);
        let admin_access_token_ttl = env.seconds(&declared::ADMIN_ACCESS_TOKEN_TTL_SECS);
        let admin_session_absolute = env.seconds(&declared::ADMIN_SESSION_ABSOLUTE_SECS);
        let admin_session_idle = env.seconds(&declared::ADMIN_SESSION_IDLE_SECS);
        let refresh_reuse_grace = env.seconds(&declared::REFRESH_REUSE_GRACE_SECS);
        let throttle = crate::throttle::ThrottlePolicy {
            per_account_network: env.get(&declared::LOGIN_MAX_FAILURES_PER_ACCOUNT),
            per_account: env.get(&declared::LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL),
            per_network: env.get(&declared::LOGIN_MAX_FAILURES_PER_IP),
            second_factor: env.get(&declared::LOGIN_MAX_WRONG_CODES),
            window: env.seconds(&declared::LOGIN_FAILURE_WINDOW_SECS),
        };
        let key_publish_delay = env.seconds(&declared::KEY_PUBLISH_DELAY_SECS);
        let keyring_reload = env.seconds(&declared::KEYRING_RELOAD_SECS);
        let key_retire_after = env.parse::<u64>(&declared::KEY_RETIRE_AFTER_SECS).map(Duration::from_secs);
        let allowed_origins = service_kit::config::origins(&env.get::<String>(&declared::ALLOWED_ORIGINS));
        let cookie_secure = env.get(&declared::REFRESH_COOKIE_SECURE);
        let (signing_key, encryption_key) = keys?;
        Some(Self {
            service: service?,
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
            encryption_key,
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
