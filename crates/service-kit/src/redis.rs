//! Redis: a multiplexed connection manager that reconnects on its own, and the key prefix
//! (ordinary configuration, so tests and shared deployments keep their keys apart).

use redis::aio::ConnectionManager;

use crate::config::EnvReader;

#[derive(Clone, Debug)]
pub struct RedisConfig {
    pub url: String,
    /// Put in front of every key and stream name this service uses.
    pub key_prefix: String,
}

impl RedisConfig {
    /// `None` when `REDIS_URL` is unset; services that need Redis ask with [`RedisConfig::require`].
    pub fn read(env: &mut EnvReader) -> Option<Self> {
        // The ACL user's password may come apart from the address (`REDIS_PASSWORD[_FILE]`).
        let url = env.url_with_secret_password("REDIS_URL", "REDIS_PASSWORD")?;
        let key_prefix = env.optional("REDIS_KEY_PREFIX").unwrap_or_default();
        Some(Self { url, key_prefix })
    }

    /// Records a problem when a service that needs Redis has none configured.
    pub fn require(config: &Option<Self>, env: &mut EnvReader) {
        if config.is_none() {
            env.problem("REDIS_URL is not set");
        }
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }
}

/// Opens a connection manager.
pub async fn connect(config: &RedisConfig) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(config.url.as_str())?;
    ConnectionManager::new(client).await
}

/// A readiness check: Redis answers PING.
pub fn readiness(connection: ConnectionManager) -> observability::ReadinessCheck {
    observability::ReadinessCheck::new("redis", move || {
        let mut connection = connection.clone();
        async move { redis::cmd("PING").query_async::<String>(&mut connection).await.map(|_| ()).map_err(|e| e.to_string()) }
    })
}
