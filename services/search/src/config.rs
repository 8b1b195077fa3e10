//! The search service's configuration: where its index lives and which replica it is.

use std::path::PathBuf;

use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::search as declared;

#[derive(Clone, Debug)]
pub struct SearchConfig {
    pub service: ServiceConfig,
    /// The replica's index directory: its own, never shared with another replica.
    pub index_dir: PathBuf,
    /// The replica's stable name: its consumer group is `search.<replica>`, so every replica
    /// sees every event.
    pub replica: String,
    /// How many queries of each lane (light, heavy) run at once: the rest wait up to 2 s for a
    /// turn, then get 503 `busy`.
    pub concurrency: usize,
}

/// The machine's cores, at least two.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

impl SearchConfig {
    /// Defaults around a shared config.
    pub fn new(service: ServiceConfig, index_dir: PathBuf, replica: &str) -> Self {
        Self { service, index_dir, replica: sanitize(replica), concurrency: cores() }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let host = std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned());
        let replica =
            sanitize(&env.text(&declared::SEARCH_REPLICA).or(host).filter(|r| !r.is_empty()).unwrap_or("local".into()));
        let index_dir = env
            .text(&declared::SEARCH_INDEX_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".dev/search").join(&replica));
        let concurrency = env.parse(&declared::SEARCH_CONCURRENCY).unwrap_or_else(cores);
        if concurrency == 0 {
            env.problem(format!("{} must be at least 1", declared::SEARCH_CONCURRENCY.name));
        }
        Some(Self { service: service?, index_dir, replica, concurrency })
    }
}

/// A replica name fit for a Redis group name: letters, digits, `-` and `_`.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(60).collect()
}
