//! Typed configuration from the environment. Reading never stops at the first problem: every
//! missing or malformed variable is collected and reported in one error.

use shop_types::Currency;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use auth_jwt::Jwks;
pub use secrecy::{ExposeSecret, SecretString};
use settings::shared;
pub use settings::{Setting, WhenUnset};

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

/// A comma-separated list of origins, each without its trailing slash.
pub fn origins(list: &str) -> Vec<String> {
    list.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty()).collect()
}

/// `url` with its password set to `password` (percent-encoded as the URL needs).
pub fn with_password(url: &str, password: &str) -> Result<String, String> {
    let mut parsed = url::Url::parse(url).map_err(|error| format!("not a URL: {error}"))?;
    if parsed.username().is_empty() {
        return Err("the URL names no user for the password".to_owned());
    }
    parsed.set_password(Some(password)).map_err(|()| "the URL cannot carry a password".to_owned())?;
    Ok(parsed.into())
}

/// Reads settings from a source (the process environment, or a map in tests), collecting
/// problems instead of failing fast. Every read names a declared [`Setting`] (the `settings`
/// crate), never a bare variable, so a variable's name is spelled once and the README lists it.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send>;

pub struct EnvReader {
    lookup: Lookup,
    problems: Vec<String>,
    read: Vec<&'static str>,
}

impl EnvReader {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_fn(|key| std::env::var(key).ok())
    }

    /// Reads from any lookup function (tests).
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + 'static) -> Self {
        Self { lookup: Box::new(lookup), problems: Vec::new(), read: Vec::new() }
    }

    /// Reads nothing: every setting takes its declared default (a configuration's defaults).
    pub fn empty() -> Self {
        Self::from_fn(|_| None)
    }

    /// Reads `(variable, value)` pairs (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let map: std::collections::HashMap<String, String> =
            pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        Self::from_fn(move |key| map.get(key).cloned())
    }

    /// A variable's raw value; empty counts as unset.
    fn raw(&self, variable: &str) -> Option<String> {
        (self.lookup)(variable).filter(|v| !v.trim().is_empty())
    }

    fn note(&mut self, setting: &Setting) {
        if !self.read.contains(&setting.name) {
            self.read.push(setting.name);
        }
    }

    /// The names of the settings read so far (a test checks each is declared for its reader).
    pub fn read_settings(&self) -> &[&'static str] {
        &self.read
    }

    /// Whether the setting was given (its default not taken).
    pub fn given(&mut self, setting: &Setting) -> bool {
        self.note(setting);
        self.raw(setting.name).is_some() || (setting.secret && self.raw(&setting.file_variable()).is_some())
    }

    /// The setting's text: the given value, else its default value; a required one that is
    /// missing, or a value outside its choices, is a problem.
    pub fn text(&mut self, setting: &Setting) -> Option<String> {
        self.note(setting);
        let value = match self.raw(setting.name) {
            Some(value) => Some(value.trim().to_owned()),
            None => self.unset(setting).map(str::to_owned),
        };
        match value {
            Some(value) if !setting.choices.is_empty() && !setting.choices.contains(&value.as_str()) => {
                self.problems.push(format!("{}={value:?} must be one of {}", setting.name, setting.choices.join(", ")));
                None
            }
            value => value,
        }
    }

    /// What an unset setting means: its default value, or nothing (a problem when required).
    fn unset(&mut self, setting: &Setting) -> Option<&'static str> {
        match setting.when_unset {
            WhenUnset::Value(value) => Some(value),
            WhenUnset::Required => {
                self.problems.push(format!("{} is not set", setting.name));
                None
            }
            WhenUnset::Off | WhenUnset::Computed(_) => None,
        }
    }

    /// The setting parsed: the given value or the default value, `None` when neither is there
    /// (or it is malformed, which is a problem).
    pub fn parse<T: FromStr>(&mut self, setting: &Setting) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let raw = self.text(setting)?;
        match raw.parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems.push(format!("{}={raw:?} is malformed: {error}", setting.name));
                None
            }
        }
    }

    /// A setting with a default value, parsed; a malformed given value is a problem (and the
    /// default stands in until `finish` reports it).
    ///
    /// # Panics
    /// When the declaration has no default value, or one that does not parse as `T`: a
    /// mistake in the declaration, which every service's configuration test reads.
    pub fn get<T: FromStr>(&mut self, setting: &Setting) -> T
    where
        T::Err: fmt::Display,
    {
        let Some(default) = setting.default_value() else {
            panic!("{} declares no default value; read it with `parse`", setting.name)
        };
        let parse_default = || match default.parse() {
            Ok(value) => value,
            Err(error) => panic!("{}'s declared default {default:?} is not valid: {error}", setting.name),
        };
        self.parse(setting).unwrap_or_else(parse_default)
    }

    /// A setting in whole seconds.
    pub fn seconds(&mut self, setting: &Setting) -> Duration {
        Duration::from_secs(self.get(setting))
    }

    /// A setting in milliseconds.
    pub fn millis(&mut self, setting: &Setting) -> Duration {
        Duration::from_millis(self.get(setting))
    }

    /// One of a setting's choices (`None` when unset without a default, or not a choice: a
    /// problem).
    pub fn choice(&mut self, setting: &Setting) -> Option<&'static str> {
        let value = self.text(setting)?;
        setting.choices.iter().copied().find(|c| *c == value)
    }

    /// The member of a family (`<NAME>_URL`) for `service`: its given value, if any.
    pub fn family(&mut self, setting: &Setting, service: &str) -> Option<String> {
        self.note(setting);
        self.raw(&setting.for_service(service))
    }

    /// A secret given in the variable or, as containers pass secrets, in the file its `_FILE`
    /// variable names (its contents trimmed); the file wins when both are set. An unreadable
    /// file is a problem, and so is a missing required secret.
    pub fn secret(&mut self, setting: &Setting) -> Option<String> {
        self.note(setting);
        let file_key = setting.file_variable();
        let Some(path) = self.raw(&file_key) else {
            return match self.raw(setting.name) {
                Some(value) => Some(value),
                None if setting.when_unset == WhenUnset::Required => {
                    self.problems.push(format!("{} (or {file_key}) is not set", setting.name));
                    None
                }
                None => None,
            };
        };
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

    /// The URL in `url` with the password from `password` (or its `_FILE`) put in, when one is
    /// given: a container keeps the address in its environment and the password in a mounted
    /// secret.
    pub fn url_with_password(&mut self, url: &Setting, password: &Setting) -> Option<String> {
        let address = self.text(url)?;
        let Some(secret) = self.secret(password) else { return Some(address) };
        match with_password(&address, &secret) {
            Ok(address) => Some(address),
            Err(error) => {
                self.problems.push(format!("{} cannot take {}: {error}", url.name, password.name));
                None
            }
        }
    }

    /// The contents of the file a setting names.
    pub fn file(&mut self, setting: &Setting) -> Option<String> {
        let path = PathBuf::from(self.text(setting)?);
        match std::fs::read_to_string(&path) {
            Ok(contents) => Some(contents),
            Err(error) => {
                self.problems.push(format!("{}: cannot read {}: {error}", setting.name, path.display()));
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

    /// Ends reading with what was read: `Ok` only if no problem was found.
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T, ConfigError> {
        self.finish()?;
        Ok(value.expect("no problems means every part was read"))
    }

    /// Records a problem for every setting read that is not declared for `reader` (in
    /// `settings::service::<reader>` or the shared ones): the README's table would not list it
    /// under its reader, so the service refuses to start.
    pub fn check_declared(&mut self, reader: &str) {
        let undeclared: Vec<&str> = self.read.iter().copied().filter(|name| !settings::reads(reader, name)).collect();
        for name in undeclared {
            self.problems.push(format!("{name} is read by {reader} but not declared for it (crates/settings)"));
        }
    }

    /// A configuration's defaults: `read` against an empty environment, for `reader`.
    ///
    /// # Panics
    /// When a default is invalid, `read` needs a setting that has none or reads one not
    /// declared for `reader`: a mistake in the declarations.
    pub fn defaults<T>(reader: &str, read: impl FnOnce(&mut Self) -> Option<T>) -> T {
        let mut env = Self::empty();
        let value = read(&mut env);
        env.check_declared(reader);
        match env.finish_with(value) {
            Ok(value) => value,
            Err(error) => panic!("the declared defaults do not make a configuration: {error}"),
        }
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
