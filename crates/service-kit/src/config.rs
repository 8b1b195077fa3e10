//! Typed configuration from the environment. Reading never stops at the first problem: every
//! missing or malformed variable is collected and reported in one error.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use auth_jwt::Jwks;
pub use secrecy::{ExposeSecret, SecretString};

use crate::db::DatabaseConfig;
use crate::fleet::ServiceSpec;
use crate::redis::RedisConfig;

/// Every problem found while reading the configuration.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.problems.len())?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// `url` with its password set to `password` (percent-encoded as the URL needs).
pub fn with_password(url: &str, password: &str) -> Result<String, String> {
    let mut parsed = url::Url::parse(url).map_err(|error| format!("not a URL: {error}"))?;
    if parsed.username().is_empty() {
        return Err("the URL names no user for the password".to_owned());
    }
    parsed.set_password(Some(password)).map_err(|()| "the URL cannot carry a password".to_owned())?;
    Ok(parsed.into())
}

/// Reads variables from a source (the process environment, or a map in tests), collecting
/// problems instead of failing fast.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send>;

pub struct EnvReader {
    lookup: Lookup,
    problems: Vec<String>,
}

impl EnvReader {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_fn(|key| std::env::var(key).ok())
    }

    /// Reads from any lookup function (tests).
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + 'static) -> Self {
        Self { lookup: Box::new(lookup), problems: Vec::new() }
    }

    /// A raw value; empty counts as unset.
    pub fn optional(&mut self, key: &str) -> Option<String> {
        (self.lookup)(key).filter(|v| !v.trim().is_empty())
    }

    /// A value that must be present.
    pub fn required(&mut self, key: &str) -> Option<String> {
        let value = self.optional(key);
        if value.is_none() {
            self.problems.push(format!("{key} is not set"));
        }
        value
    }

    /// A parsed value, or `default` when unset; a malformed value is a problem.
    pub fn parse_or<T: FromStr>(&mut self, key: &str, default: T) -> T
    where
        T::Err: fmt::Display,
    {
        self.parse_optional(key).unwrap_or(default)
    }

    /// A parsed value if set; a malformed value is a problem.
    pub fn parse_optional<T: FromStr>(&mut self, key: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let raw = self.optional(key)?;
        match raw.trim().parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems.push(format!("{key}={raw:?} is malformed: {error}"));
                None
            }
        }
    }

    /// A required parsed value.
    pub fn parse_required<T: FromStr>(&mut self, key: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        if self.optional(key).is_none() {
            self.problems.push(format!("{key} is not set"));
            return None;
        }
        self.parse_optional(key)
    }

    /// A duration in seconds.
    pub fn seconds_or(&mut self, key: &str, default: u64) -> Duration {
        Duration::from_secs(self.parse_or(key, default))
    }

    /// A secret given in `KEY` or, as containers pass secrets, in the file named by `KEY_FILE`
    /// (its contents trimmed); the file wins when both are set. An unreadable file is a problem.
    pub fn optional_secret(&mut self, key: &str) -> Option<String> {
        let file_key = format!("{key}_FILE");
        let Some(path) = self.optional(&file_key) else { return self.optional(key) };
        match std::fs::read_to_string(&path) {
            Ok(contents) if !contents.trim().is_empty() => Some(contents.trim().to_owned()),
            Ok(_) => {
                self.problems.push(format!("{file_key}: {path} is empty"));
                None
            }
            Err(error) => {
                self.problems.push(format!("{file_key}: cannot read {path}: {error}"));
                None
            }
        }
    }

    /// A secret that must be given, in `KEY` or in the file named by `KEY_FILE`.
    pub fn required_secret(&mut self, key: &str) -> Option<String> {
        let value = self.optional_secret(key);
        if value.is_none() && self.optional(&format!("{key}_FILE")).is_none() {
            self.problems.push(format!("{key} (or {key}_FILE) is not set"));
        }
        value
    }

    /// The URL in `url_key` with the password from `password_key` (or its `_FILE`) put in, when
    /// one is given: a container keeps the address in its environment and the password in a
    /// mounted secret.
    pub fn url_with_secret_password(&mut self, url_key: &str, password_key: &str) -> Option<String> {
        let url = self.optional(url_key)?;
        let Some(password) = self.optional_secret(password_key) else { return Some(url) };
        match with_password(&url, &password) {
            Ok(url) => Some(url),
            Err(error) => {
                self.problems.push(format!("{url_key} cannot take {password_key}: {error}"));
                None
            }
        }
    }

    /// The contents of a file named by a variable.
    pub fn file_contents(&mut self, key: &str) -> Option<String> {
        let path = PathBuf::from(self.required(key)?);
        match std::fs::read_to_string(&path) {
            Ok(contents) => Some(contents),
            Err(error) => {
                self.problems.push(format!("{key}: cannot read {}: {error}", path.display()));
                None
            }
        }
    }

    /// Records a problem found by the caller's own validation.
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    /// Ends reading: `Ok(())` only if no problem was found.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() { Ok(()) } else { Err(ConfigError { problems: self.problems }) }
    }
}

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
        match env.optional("SHOP_ENV").as_deref() {
            None | Some("production") => Self::Production,
            Some("development") => Self::Development,
            Some(other) => {
                env.problem(format!("SHOP_ENV={other:?}: use production (the default) or development"));
                Self::Production
            }
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
    pub currency: String,
    /// Production or development (`SHOP_ENV`, production by default).
    pub environment: ShopEnv,
}

impl ServiceConfig {
    /// Reads the shared configuration of `spec` from `env`. Problems are left in `env` so the
    /// service can add its own before calling `finish`.
    pub fn read(spec: ServiceSpec, env: &mut EnvReader) -> Option<Self> {
        let default_bind: SocketAddr = ([127, 0, 0, 1], spec.port).into();
        let bind = env.parse_or("BIND_ADDR", default_bind);
        let database = spec.schema.and_then(|schema| DatabaseConfig::read(env, schema));
        let redis = RedisConfig::read(env);
        let internal_private_key = env.file_contents("INTERNAL_KEY_FILE").map(SecretString::from);
        let internal_jwks = env.file_contents("INTERNAL_JWKS_FILE").and_then(|text| {
            serde_json::from_str::<Jwks>(&text)
                .map_err(|error| env.problem(format!("INTERNAL_JWKS_FILE is not a JWKS: {error}")))
                .ok()
        });
        let service_urls = crate::fleet::SERVICES
            .iter()
            .map(|other| {
                let default = format!("http://127.0.0.1:{}", other.port);
                let raw = env.optional(&other.url_var()).unwrap_or(default);
                (other.name.to_owned(), raw.split(',').map(|u| u.trim().trim_end_matches('/').to_owned()).collect())
            })
            .collect();
        let internal_token_ttl = env.seconds_or("INTERNAL_TOKEN_TTL_SECS", 60);
        let shutdown_timeout = env.seconds_or("SHUTDOWN_TIMEOUT_SECS", 20);
        let max_body_bytes = env.parse_or("MAX_BODY_BYTES", 256 * 1024);
        let client_connect_timeout = Duration::from_millis(env.parse_or("CLIENT_CONNECT_TIMEOUT_MS", 2_000));
        let client_request_timeout = Duration::from_millis(env.parse_or("CLIENT_REQUEST_TIMEOUT_MS", 10_000));
        let currency = env.optional("SHOP_CURRENCY").unwrap_or_else(|| "EUR".to_owned());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            env.problem(format!("SHOP_CURRENCY={currency:?} is not a three-letter ISO 4217 code such as EUR"));
        }
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
        env.finish()?;
        Ok(config.expect("no problems means every field was read"))
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
    use std::collections::HashMap;

    use super::*;

    fn reader(vars: &[(&str, &str)]) -> EnvReader {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        EnvReader::from_fn(move |key| map.get(key).cloned())
    }

    #[test]
    fn every_missing_or_malformed_variable_is_reported_at_once() {
        let mut env = reader(&[("BIND_ADDR", "not-an-address"), ("MAX_BODY_BYTES", "lots")]);
        let config = ServiceConfig::read(*crate::fleet::spec("product").unwrap(), &mut env);
        assert!(config.is_none());
        let error = env.finish().unwrap_err();
        let text = error.to_string();
        for needle in ["BIND_ADDR", "MAX_BODY_BYTES", "DATABASE_URL", "INTERNAL_KEY_FILE", "INTERNAL_JWKS_FILE"] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }

    #[test]
    fn defaults_apply_when_variables_are_unset() {
        let mut env = reader(&[]);
        assert_eq!(env.parse_or("PORT", 8003u16), 8003);
        assert_eq!(env.seconds_or("T", 7), Duration::from_secs(7));
        assert!(env.finish().is_ok());
    }

    #[test]
    fn a_password_file_goes_into_the_url_and_a_bad_one_is_reported() {
        let dir = std::env::temp_dir().join(format!("secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, "p@ss/w:rd\n").unwrap();
        let path = file.display().to_string();
        let mut env = reader(&[
            ("DATABASE_URL", "postgres://shopfleet_auth@db:5432/shop"),
            ("DATABASE_PASSWORD_FILE", &path),
            ("REDIS_URL", "redis://cart@redis:6379"),
            ("REDIS_PASSWORD", "inline"),
        ]);
        let url = env.url_with_secret_password("DATABASE_URL", "DATABASE_PASSWORD").unwrap();
        assert_eq!(url, "postgres://shopfleet_auth:p%40ss%2Fw%3Ard@db:5432/shop");
        assert_eq!(
            env.url_with_secret_password("REDIS_URL", "REDIS_PASSWORD").unwrap(),
            "redis://cart:inline@redis:6379"
        );
        assert!(env.finish().is_ok());

        let mut env = reader(&[
            ("DATABASE_URL", "postgres://db:5432/shop"),
            ("DATABASE_PASSWORD", "x"),
            ("AWS_SECRET_ACCESS_KEY_FILE", "/nonexistent/secret"),
        ]);
        assert!(env.url_with_secret_password("DATABASE_URL", "DATABASE_PASSWORD").is_none());
        assert!(env.required_secret("AWS_SECRET_ACCESS_KEY").is_none());
        assert!(env.required_secret("AWS_ACCESS_KEY_ID").is_none());
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
