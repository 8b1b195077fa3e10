//! Typed configuration from the environment. Reading never stops at the first problem: every
//! missing or malformed variable is collected and reported in one error.

use shop_types::Currency;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use auth_jwt::Jwks;
pub use secrecy::{ExposeSecret, SecretString};
use settings::shared;
pub use settings::{Setting, WhenUnset};

use crate::db::DatabaseConfig;
pub use crate::env::{ConfigError, EnvReader, origins, with_password};
use crate::fleet::ServiceSpec;
use crate::redis::RedisConfig;

/// What kind of deployment a service runs in (`SHOP_ENV`). Production is the default: a
/// deployment that forgets the variable gets production's rules (no sandbox payments), never
/// development's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShopEnv {
    /// A shop that takes real orders (`SHOP_ENV` unset or `production`).
    Production,
    /// `cargo xtask up`, the tests and the compose dev stack (`SHOP_ENV=development`).
    Development,
}

impl ShopEnv {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Development => "development",
        }
    }

    /// Reads `SHOP_ENV`: `production` (the default) or `development`.
    pub fn read(env: &mut EnvReader) -> Self {
        match env.choice(&shared::SHOP_ENV) {
            Some("development") => Self::Development,
            _ => Self::Production,
        }
    }
}

impl fmt::Display for ShopEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The configuration every service shares.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub spec: ServiceSpec,
    /// Where to listen; port 0 picks a free one (tests).
    pub bind: SocketAddr,
    pub database: Option<DatabaseConfig>,
    pub redis: Option<RedisConfig>,
    /// This service's private key for minting internal tokens (PKCS#8 PEM).
    pub internal_private_key: SecretString,
    /// Every service's internal public key, `kid` = service name.
    pub internal_jwks: Jwks,
    pub internal_token_ttl: Duration,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// Largest request body a handler reads.
    pub max_body_bytes: usize,
    /// Connect and request timeouts of the internal HTTP client.
    pub client_connect_timeout: Duration,
    pub client_request_timeout: Duration,
    /// Base URLs of the other services, by name (several, comma-separated, for replicas).
    pub service_urls: Vec<(String, Vec<String>)>,
    /// The shop's one currency (ISO 4217, `SHOP_CURRENCY`, default EUR): every price and
    /// total is in it; anything else is refused.
    pub currency: Currency,
    /// Production or development (`SHOP_ENV`, production by default).
    pub environment: ShopEnv,
}

impl ServiceConfig {
    /// Reads the shared configuration of `spec` from `env`. Problems are left in `env` so the
    /// service can add its own before calling `finish`.
    pub fn read(spec: ServiceSpec, env: &mut EnvReader) -> Option<Self> {
        let bind = env.parse(&shared::BIND_ADDR).unwrap_or_else(|| ([127, 0, 0, 1], spec.port).into());
        let database = spec.schema.and_then(|schema| DatabaseConfig::read(env, schema));
        let redis = RedisConfig::read(env);
        let internal_private_key = env.file(&shared::INTERNAL_KEY_FILE).map(SecretString::from);
        let internal_jwks = env.file(&shared::INTERNAL_JWKS_FILE).and_then(|text| {
            serde_json::from_str::<Jwks>(&text)
                .map_err(|error| env.problem(format!("{} is not a JWKS: {error}", shared::INTERNAL_JWKS_FILE.name)))
                .ok()
        });
        let service_urls = crate::fleet::SERVICES
            .iter()
            .map(|other| {
                let raw = env
                    .family(&shared::SERVICE_URL, other.name)
                    .unwrap_or_else(|| format!("http://127.0.0.1:{}", other.port));
                (other.name.to_owned(), raw.split(',').map(|u| u.trim().trim_end_matches('/').to_owned()).collect())
            })
            .collect();
        let internal_token_ttl = env.seconds(&shared::INTERNAL_TOKEN_TTL_SECS);
        let shutdown_timeout = env.seconds(&shared::SHUTDOWN_TIMEOUT_SECS);
        let max_body_bytes = env.get(&shared::MAX_BODY_BYTES);
        let client_connect_timeout = env.millis(&shared::CLIENT_CONNECT_TIMEOUT_MS);
        let client_request_timeout = env.millis(&shared::CLIENT_REQUEST_TIMEOUT_MS);
        let currency: Currency = env.get(&shared::SHOP_CURRENCY);
        let environment = ShopEnv::read(env);
        // Everything is read before anything missing ends the reading, so all problems are listed.
        Some(Self {
            spec,
            bind,
            database,
            redis,
            internal_private_key: internal_private_key?,
            internal_jwks: internal_jwks?,
            internal_token_ttl,
            shutdown_timeout,
            max_body_bytes,
            client_connect_timeout,
            client_request_timeout,
            service_urls,
            currency,
            environment,
        })
    }

    /// Reads the process environment; for services with nothing of their own to add.
    pub fn from_env(spec: ServiceSpec) -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let config = Self::read(spec, &mut env);
        env.finish_with(config)
    }

    /// Reads a fleet service's whole configuration from `env`: the shared part, then its own
    /// (`own` gets the shared part, `None` when that had problems, and reads its settings
    /// either way), every problem of both at once.
    pub fn read_with<T>(
        name: &str,
        mut env: EnvReader,
        own: impl FnOnce(&mut EnvReader, Option<Self>) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let Some(spec) = crate::fleet::spec(name) else {
            return Err(ConfigError { problems: vec![format!("{name} is not a service of the fleet")] });
        };
        let service = Self::read(*spec, &mut env);
        let config = own(&mut env, service);
        env.check_declared(name);
        env.finish_with(config)
    }

    /// Reads the process environment for the fleet service called `name`.
    pub fn from_env_of(name: &str) -> Result<Self, ConfigError> {
        let spec = crate::fleet::spec(name)
            .ok_or_else(|| ConfigError { problems: vec![format!("{name} is not a service of the fleet")] })?;
        Self::from_env(*spec)
    }

    pub fn name(&self) -> &'static str {
        self.spec.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(vars: &[(&str, &str)]) -> EnvReader {
        EnvReader::from_pairs(vars.iter().copied())
    }

    #[test]
    fn every_missing_or_malformed_variable_is_reported_at_once() {
        let mut env = reader(&[
            (settings::shared::BIND_ADDR.name, "not-an-address"),
            (settings::shared::MAX_BODY_BYTES.name, "lots"),
        ]);
        let config = ServiceConfig::read(*crate::fleet::spec("product").unwrap(), &mut env);
        assert!(config.is_none());
        let error = env.finish().unwrap_err();
        let text = error.to_string();
        for needle in [
            settings::shared::BIND_ADDR.name,
            settings::shared::MAX_BODY_BYTES.name,
            settings::shared::DATABASE_URL.name,
            settings::shared::INTERNAL_KEY_FILE.name,
            settings::shared::INTERNAL_JWKS_FILE.name,
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }

    #[test]
    fn defaults_apply_when_variables_are_unset() {
        let mut env = reader(&[]);
        assert_eq!(env.get::<u64>(&shared::MAX_BODY_BYTES), 256 * 1024);
        assert_eq!(env.seconds(&shared::SHUTDOWN_TIMEOUT_SECS), Duration::from_secs(20));
        assert_eq!(env.choice(&shared::SHOP_ENV), Some("production"));
        assert_eq!(env.parse::<u64>(&shared::BIND_ADDR), None, "a computed default is the caller's");
        assert!(env.finish().is_ok());

        let mut env = reader(&[
            (settings::shared::SHOP_ENV.name, "staging"),
            (settings::shared::SHUTDOWN_TIMEOUT_SECS.name, "soon"),
        ]);
        assert_eq!(env.choice(&shared::SHOP_ENV), None);
        assert_eq!(env.seconds(&shared::SHUTDOWN_TIMEOUT_SECS), Duration::from_secs(20), "the default stands in");
        assert_eq!(
            env.read_settings(),
            [settings::shared::SHOP_ENV.name, settings::shared::SHUTDOWN_TIMEOUT_SECS.name]
        );
        let text = env.finish().unwrap_err().to_string();
        assert!(text.contains("SHOP_ENV=\"staging\" must be one of production, development"), "{text}");
        assert!(text.contains("SHUTDOWN_TIMEOUT_SECS=\"soon\" is malformed"), "{text}");
    }

    #[test]
    fn a_password_file_goes_into_the_url_and_a_bad_one_is_reported() {
        let dir = std::env::temp_dir().join(format!("secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, "p@ss/w:rd\n").unwrap();
        let path = file.display().to_string();
        let mut env = reader(&[
            (settings::shared::DATABASE_URL.name, "postgres://shopfleet_auth@db:5432/shop"),
            ("DATABASE_PASSWORD_FILE", &path),
            (settings::shared::REDIS_URL.name, "redis://cart@redis:6379"),
            (settings::shared::REDIS_PASSWORD.name, "inline"),
        ]);
        let url = env.url_with_password(&shared::DATABASE_URL, &shared::DATABASE_PASSWORD).unwrap();
        assert_eq!(url, "postgres://shopfleet_auth:p%40ss%2Fw%3Ard@db:5432/shop");
        assert_eq!(
            env.url_with_password(&shared::REDIS_URL, &shared::REDIS_PASSWORD).unwrap(),
            "redis://cart:inline@redis:6379"
        );
        assert!(env.finish().is_ok());

        let mut env = reader(&[
            (settings::shared::DATABASE_URL.name, "postgres://db:5432/shop"),
            (settings::shared::DATABASE_PASSWORD.name, "x"),
            ("AWS_SECRET_ACCESS_KEY_FILE", "/nonexistent/secret"),
        ]);
        assert!(env.url_with_password(&shared::DATABASE_URL, &shared::DATABASE_PASSWORD).is_none());
        assert!(env.secret(&settings::service::media::AWS_SECRET_ACCESS_KEY).is_none());
        assert!(env.secret(&settings::service::media::AWS_ACCESS_KEY_ID).is_none());
        let text = env.finish().unwrap_err().to_string();
        for needle in [
            "names no user",
            "AWS_SECRET_ACCESS_KEY_FILE: cannot read",
            "AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID_FILE)",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
