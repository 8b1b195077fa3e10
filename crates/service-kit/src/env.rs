//! Reading settings from the environment (or a map in tests): [`EnvReader`] collects every
//! missing or malformed variable instead of stopping at the first, and [`ConfigError`] reports
//! them all at once. Below the configurations that read with it (`config`, `db`, `redis`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use settings::{Setting, WhenUnset};

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
