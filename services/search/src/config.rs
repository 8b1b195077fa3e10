//! The search service's configuration: where its index lives and which replica it is.

use std::path::PathBuf;

use service_kit::{ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct SearchConfig {
    pub service: ServiceConfig,
    /// The replica's index directory (`SEARCH_INDEX_DIR`, default `.dev/search/<replica>`): its
    /// own, never shared with another replica.
    pub index_dir: PathBuf,
    /// The replica's stable name (`SEARCH_REPLICA`, default the host name): its consumer group
    /// is `search.<replica>`, so every replica sees every event.
    pub replica: String,
    /// How many queries of each lane (light, heavy) run at once (`SEARCH_CONCURRENCY`, the
    /// machine's cores): the rest wait up to 2 s for a turn, then get 503 `busy`.
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
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let host = std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned());
        let replica =
            sanitize(&env.optional("SEARCH_REPLICA").or(host).filter(|r| !r.is_empty()).unwrap_or("local".into()));
        let index_dir = env
            .optional("SEARCH_INDEX_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".dev/search").join(&replica));
        let concurrency = env.parse_or("SEARCH_CONCURRENCY", cores());
        if concurrency == 0 {
            env.problem("SEARCH_CONCURRENCY must be at least 1");
        }
        env.finish()?;
        let service = service.expect("no problems means every field was read");
        Ok(Self { service, index_dir, replica, concurrency })
    }
}

/// A replica name fit for a Redis group name: letters, digits, `-` and `_`.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(60).collect()
}
