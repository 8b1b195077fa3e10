//! The response cache (Redis; spec: "Redis caches API responses"): storefront reads are kept as
//! pre-serialized bytes with their ETag, keyed by the normalized request under the catalog's
//! current generation. Every committed catalog change (a staff write, a stock flag from
//! inventory) bumps the generation before it is acknowledged, so no later read is answered from
//! an entry older than the change; old generations simply expire (TTL). Reading the generation
//! and the entry is one round trip (a script; both keys share the `{catalog}` hash tag, so it
//! also runs on Redis Cluster). If Redis fails, reads go to the database: the cache never fails
//! a request.

use std::time::Duration;

use bytes::Bytes;
use service_kit::redis::Connection;

/// A response body ready to send, with its entity tag.
pub(crate) use service_kit::conditional::Tagged as Cached;

/// How an entry is kept in Redis: its ETag, a newline, the body.
trait Stored: Sized {
    fn encode(&self) -> Vec<u8>;
    fn decode(raw: Vec<u8>) -> Option<Self>;
}

impl Stored for Cached {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.etag.len() + 1 + self.body.len());
        out.extend_from_slice(self.etag.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }

    fn decode(raw: Vec<u8>) -> Option<Self> {
        let split = raw.iter().position(|b| *b == b'\n')?;
        let etag = String::from_utf8(raw[..split].to_vec()).ok()?;
        Some(Self { etag, body: Bytes::copy_from_slice(&raw[split + 1..]) })
    }
}

/// Reads the generation and the entry of that generation in one round trip.
const READ: &str = r"
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
";

/// The catalog's response cache.
#[derive(Clone)]
pub(crate) struct Cache {
    redis: Connection,
    generation_key: String,
    entry_prefix: String,
    ttl: Duration,
    read: redis::Script,
    enabled: bool,
}

/// What a lookup found: the generation to store a fresh entry under, and the entry if any.
pub(crate) struct Lookup {
    pub generation: Option<String>,
    pub hit: Option<Cached>,
}

impl Cache {
    pub(crate) fn new(redis: Connection, key_prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            generation_key: format!("{key_prefix}cache:{{catalog}}:generation"),
            entry_prefix: format!("{key_prefix}cache:{{catalog}}:"),
            ttl,
            read: redis::Script::new(READ),
            enabled: true,
        }
    }

    /// A cache that keeps nothing (`CATALOG_CACHE=off`): every read computes.
    pub(crate) fn disabled(self) -> Self {
        Self { enabled: false, ..self }
    }

    /// The entry for `key` under the current generation.
    pub(crate) async fn get(&self, key: &str) -> Lookup {
        if !self.enabled {
            return Lookup { generation: None, hit: None };
        }
        let mut redis = self.redis.clone();
        let result: redis::RedisResult<(String, Option<Vec<u8>>)> =
            self.read.key(&self.generation_key).arg(&self.entry_prefix).arg(key).invoke_async(&mut redis).await;
        match result {
            Ok((generation, raw)) => Lookup { generation: Some(generation), hit: raw.and_then(Cached::decode) },
            Err(error) => {
                tracing::warn!(error = %service_kit::Chain(&error), "catalog cache unavailable; reading the database");
                Lookup { generation: None, hit: None }
            }
        }
    }

    /// Stores `value` for `key` under `generation` (the one read before computing it, so a
    /// change committed meanwhile has already moved readers to a newer generation).
    pub(crate) async fn put(&self, generation: &str, key: &str, value: &Cached) {
        let mut redis = self.redis.clone();
        let entry = format!("{}{generation}:{key}", self.entry_prefix);
        let result: redis::RedisResult<()> = redis::cmd("SET")
            .arg(entry)
            .arg(value.encode())
            .arg("EX")
            .arg(self.ttl.as_secs().max(1))
            .query_async(&mut redis)
            .await;
        if let Err(error) = result {
            tracing::warn!(error = %service_kit::Chain(&error), "catalog cache write failed");
        }
    }

    /// Moves every reader to a new generation: called after a catalog change commits and before
    /// it is acknowledged. Errors are logged: entries then live at most their TTL.
    pub(crate) async fn invalidate(&self) {
        if !self.enabled {
            return;
        }
        let mut redis = self.redis.clone();
        let result: redis::RedisResult<i64> =
            redis::cmd("INCR").arg(&self.generation_key).query_async(&mut redis).await;
        if let Err(error) = result {
            tracing::error!(error = %service_kit::Chain(&error), "catalog cache invalidation failed; entries expire within their TTL");
        }
    }
}
