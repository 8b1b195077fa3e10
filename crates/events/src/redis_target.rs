//! Where Redis is: one server, or a Redis Cluster (several seed nodes, or one seed with
//! `REDIS_CLUSTER=true`). Every connection of the fleet is opened here, so every use of Redis
//! (rate limits and revocation, carts, caches, throttles, streams and consumer groups) runs on
//! either. On a cluster each command goes to the node owning its key's slot; the keys one
//! script or one multi-key command touches share a hash tag, so they share a slot.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// One Redis, or a cluster's seed nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisTarget {
    /// `redis://user:password@host:port` of the server, or of each seed node.
    pub urls: Vec<String>,
    pub cluster: bool,
}

impl RedisTarget {
    /// `urls` comma-separated; more than one means a cluster, as does `cluster`.
    pub fn new(urls: &str, cluster: bool) -> Self {
        let urls: Vec<String> = urls.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
        let cluster = cluster || urls.len() > 1;
        Self { urls, cluster }
    }

    /// One server.
    pub fn single(url: &str) -> Self {
        Self { urls: vec![url.to_owned()], cluster: false }
    }

    /// A connection that reconnects on its own, with the client's default timeouts.
    pub async fn connect(&self) -> RedisResult<Connection> {
        self.connect_with(Timeouts::default()).await
    }

    /// A connection that reconnects on its own, with `timeouts`.
    pub async fn connect_with(&self, timeouts: Timeouts) -> RedisResult<Connection> {
        if self.cluster {
            let mut builder = redis::cluster::ClusterClient::builder(self.urls.clone());
            if let Some(timeout) = timeouts.response {
                builder = builder.response_timeout(timeout);
            }
            if let Some(timeout) = timeouts.connection {
                builder = builder.connection_timeout(timeout);
            }
            if let Some(retries) = timeouts.retries {
                builder = builder.retries(retries as u32);
            }
            Ok(Connection::Cluster(builder.build()?.get_async_connection().await?))
        } else {
            let url = self.urls.first().map(String::as_str).unwrap_or("redis://127.0.0.1:6379");
            let mut config = ConnectionManagerConfig::new()
                .set_response_timeout(timeouts.response)
                .set_connection_timeout(timeouts.connection);
            if let Some(retries) = timeouts.retries {
                config = config.set_number_of_retries(retries);
            }
            Ok(Connection::Single(ConnectionManager::new_with_config(redis::Client::open(url)?, config).await?))
        }
    }
}

/// How long a connection waits: for one answer (a consumer's blocking read needs its block
/// time and a margin), to connect, and how often it retries; `None` keeps the client's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeouts {
    pub response: Option<Duration>,
    pub connection: Option<Duration>,
    pub retries: Option<usize>,
}

/// A connection to one Redis or to a cluster; cheap to clone (clones share it).
#[derive(Clone)]
pub enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(connection) => connection.req_packed_command(cmd),
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(connection) => connection.get_db(),
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}
