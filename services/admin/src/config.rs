//! The admin service's configuration: so far only what every service shares.

use service_kit::ConfigError;
pub use service_kit::ServiceConfig as Config;

/// Reads the configuration from the process environment.
pub fn from_env() -> Result<Config, ConfigError> {
    Config::from_env_of(crate::SERVICE)
}
