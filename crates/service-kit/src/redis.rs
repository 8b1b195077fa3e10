//! Redis: a multiplexed connection manager that reconnects on its own, and the key prefix
//! (ordinary configuration, so tests and shared deployments keep their keys apart).

pub use events::redis_target::{Connection, RedisTarget, Timeouts};

use settings::shared;

use crate::env::EnvReader;

#[derive(Clone, Debug)]
pub struct RedisConfig {
    pub url: String,
    /// Put in front of every key and stream name this service uses.
    pub key_prefix: String,
    /// A Redis Cluster (`REDIS_CLUSTER=true`, or several comma-separated seed URLs).
    pub cluster: bool,
}

impl RedisConfig {
    /// `None` when `REDIS_URL` is unset; services that need Redis ask with [`RedisConfig::require`].
    pub fn read(env: &mut EnvReader) -> Option<Self> {
        if !env.given(&shared::REDIS_URL) {
            return None;
        }
        let raw = env.text(&shared::REDIS_URL)?;
        // The ACL user's password may come apart from the address (`…_PASSWORD[_FILE]`), and
        // goes into each seed's URL.
        let password = env.secret(&shared::REDIS_PASSWORD);
        let mut urls = Vec::new();
        for url in raw.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            match password.as_deref().map(|p| crate::env::with_password(url, p)) {
                None => urls.push(url.to_owned()),
                Some(Ok(url)) => urls.push(url),
                Some(Err(error)) => env.problem(format!(
                    "{} cannot take {}: {error}",
                    shared::REDIS_URL.name,
                    shared::REDIS_PASSWORD.name
                )),
            }
        }
        let key_prefix = env.get(&shared::REDIS_KEY_PREFIX);
        let cluster = env.get::<bool>(&shared::REDIS_CLUSTER) || urls.len() > 1;
        Some(Self { url: urls.join(","), key_prefix, cluster })
    }

    /// Records a problem when a service that needs Redis has none configured.
    pub fn require(config: &Option<Self>, env: &mut EnvReader) {
        if config.is_none() {
            env.problem(format!("{} is not set", shared::REDIS_URL.name));
        }
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// Where this Redis is (one server or a cluster).
    pub fn target(&self) -> RedisTarget {
        RedisTarget::new(&self.url, self.cluster)
    }
}

/// Opens a connection that reconnects on its own (to one Redis or to a cluster).
pub async fn connect(config: &RedisConfig) -> redis::RedisResult<Connection> {
    config.target().connect().await
}

/// A readiness check: Redis answers PING.
pub fn readiness(connection: Connection) -> observability::ReadinessCheck {
    observability::ReadinessCheck::new("redis", move || {
        let mut connection = connection.clone();
        async move { redis::cmd("PING").query_async::<String>(&mut connection).await.map(|_| ()).map_err(|e| e.to_string()) }
    })
}
