//! Consumer groups. One group per consuming service, one consumer per replica. Each entry is
//! applied in a database transaction that first records its event id in the service's
//! `processed_events` table, so a redelivered event is a no-op; XACK follows the commit. On
//! start a consumer drains its own pending entries; XAUTOCLAIM takes over entries left idle by
//! dead consumers; a failing entry is retried with backoff and, after `max_deliveries`, moved to
//! the group's dead-letter stream with its error, so later events keep flowing.
//!
//! The `processed_events` table is the events crate's own (`crate::schema`), made in the
//! consumer's schema when it connects. A service without a database uses
//! [`Consumer::connect_idempotent`] with a handler that is idempotent by construction.
//!
//! The concerns live apart: this module runs the loop; `read` fetches entries (own pending,
//! claimed, new); `apply` applies one; `dead_letter` parks what cannot be applied.

mod apply;
mod dead_letter;
mod read;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::redis_target::{Connection, RedisTarget, Timeouts};
use redis::streams::StreamInfoGroupsReply;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Envelope, EventMetrics};

/// What a handler did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The event changed this service's state.
    Applied,
    /// The event is of no interest to this service (or of a type it does not know); it is
    /// recorded and acknowledged all the same. A known type in a version this build does not
    /// know is not ignored: it fails, is retried and then dead-lettered (kept whole, since no
    /// event carries a secret), to be replayed once a consumer that knows it is deployed.
    Ignored,
}

/// A handler failure; the event will be retried, then dead-lettered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

impl HandlerError {
    pub fn new(error: impl std::fmt::Display) -> Self {
        Self(error.to_string())
    }
}

impl From<crate::DecodeError> for HandlerError {
    fn from(error: crate::DecodeError) -> Self {
        Self(format!("decode: {error}"))
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self(format!("database: {error}"))
    }
}

pub type HandleFuture<'a> = Pin<Box<dyn Future<Output = Result<Handled, HandlerError>> + Send + 'a>>;

/// Applies events inside the consumer's transaction. Everything it writes through `tx` commits
/// together with the record that the event was processed.
pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a>;

    /// Whether events of this type concern the handler at all. Those that do not are
    /// acknowledged without a transaction or a processed-event record (skipping them twice is
    /// as harmless as once): on a stream with many types, most of a consumer's work saved.
    fn wants(&self, _event_type: &str) -> bool {
        true
    }

    /// Runs after the transaction of an event that `handle` applied has committed (and before
    /// it is acknowledged): for effects outside the database that must follow the commit, such
    /// as invalidating a cache. Best effort: a crash between commit and this call skips it.
    fn committed<'a>(
        &'a self,
        _event: &'a Envelope,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(std::future::ready(()))
    }
}

/// Applies events for a service that owns no database (cart, search). Applying an event twice
/// must leave the same state as applying it once: upsert by the aggregate's version, set
/// semantics. The entries of a batch are acknowledged only after `handle` succeeded for each
/// and then `flush` succeeded, so a crash before either redelivers them.
pub trait IdempotentHandler: Send + Sync + 'static {
    fn handle<'a>(&'a self, event: &'a Envelope) -> HandleFuture<'a>;

    /// Makes what the batch's `handle` calls did durable (search commits its index once per
    /// batch here, not once per event). The default has nothing to do.
    fn flush(&self) -> FlushFuture<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
}

pub type FlushFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;

#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    /// The consuming service (the group name).
    pub group: String,
    /// Unique per replica.
    pub consumer: String,
    /// Full stream names (with the key prefix).
    pub streams: Vec<String>,
    pub key_prefix: String,
    pub batch_size: usize,
    /// How long one XREADGROUP waits for new entries.
    pub block: Duration,
    /// Entries idle this long in another consumer's pending list are taken over.
    pub claim_idle: Duration,
    /// After this many failed deliveries an entry goes to the dead-letter stream.
    pub max_deliveries: u64,
    /// First retry delay; doubled per delivery, capped at `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Where a group made now starts: `None` at the stream's beginning; `Some(window)` that
    /// long before now, for a consumer that first loads the current state elsewhere (search's
    /// rebuild) and needs only what its source may not have applied yet.
    pub replay_window: Option<Duration>,
}

impl ConsumerConfig {
    pub fn new(group: &str, key_prefix: &str, domains: &[&str]) -> Self {
        Self {
            group: group.to_owned(),
            consumer: format!("{group}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            streams: domains.iter().map(|d| crate::stream_name(key_prefix, d)).collect(),
            key_prefix: key_prefix.to_owned(),
            batch_size: 64,
            block: Duration::from_secs(2),
            claim_idle: Duration::from_secs(30),
            max_deliveries: 5,
            retry_base: Duration::from_millis(200),
            retry_max: Duration::from_secs(30),
            replay_window: None,
        }
    }
}

/// Why a consumer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cannot make the processed_events table: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
enum ProcessError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stopped at a failpoint")]
    Stopped,
}

/// One consumer of one group.
pub struct Consumer {
    applier: apply::Applier,
    redis: Connection,
    config: ConsumerConfig,
    metrics: EventMetrics,
    /// Entries that failed, and when they may be tried again.
    retry_at: HashMap<String, Instant>,
    /// Entries an idempotent handler applied, acknowledged after its flush: (stream, id).
    applied: Vec<(String, String)>,
}

impl Consumer {
    /// A consumer that applies each event in a transaction of `pool` recording it in
    /// `processed_events` (made here if the schema lacks it). Opens the consumer's own Redis
    /// connection (its blocking reads must not stall others).
    pub async fn connect(
        pool: PgPool,
        redis: &RedisTarget,
        config: ConsumerConfig,
        handler: Arc<dyn Handler>,
        metrics: EventMetrics,
    ) -> Result<Self, ConnectError> {
        crate::schema::ensure_processed_events(&pool).await?;
        Self::open(apply::Applier::Transactional { pool, handler }, redis, config, metrics).await
    }

    /// A consumer for a service without a database: `handler` is idempotent by construction.
    pub async fn connect_idempotent(
        redis: &RedisTarget,
        config: ConsumerConfig,
        handler: Arc<dyn IdempotentHandler>,
        metrics: EventMetrics,
    ) -> Result<Self, ConnectError> {
        Self::open(apply::Applier::Idempotent { handler }, redis, config, metrics).await
    }

    async fn open(
        applier: apply::Applier,
        target: &RedisTarget,
        config: ConsumerConfig,
        metrics: EventMetrics,
    ) -> Result<Self, ConnectError> {
        let timeouts = Timeouts { response: Some(config.block + Duration::from_secs(5)), ..Timeouts::default() };
        let redis = target.connect_with(timeouts).await?;
        let consumer = Self { applier, redis, config, metrics, retry_at: HashMap::new(), applied: Vec::new() };
        consumer.ensure_groups().await?;
        Ok(consumer)
    }

    /// Creates the group on each stream: from the beginning, so events published before the
    /// service first started are not missed, or from the config's replay window. An existing
    /// group keeps its place.
    pub async fn ensure_groups(&self) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        let start = match self.config.replay_window {
            None => "0".to_owned(),
            Some(window) => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                format!("{}-0", now.saturating_sub(window).as_millis())
            }
        };
        for stream in &self.config.streams {
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(stream)
                .arg(&self.config.group)
                .arg(&start)
                .arg("MKSTREAM")
                .query_async(&mut redis)
                .await;
            match created {
                Err(error) if error.code() == Some("BUSYGROUP") => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// A readiness check: the group exists on every stream. It asks through `redis` (the
    /// service's ordinary connection): the consumer's own connection sits in blocking reads.
    pub fn readiness(&self, redis: Connection) -> observability::ReadinessCheck {
        let streams = self.config.streams.clone();
        let group = self.config.group.clone();
        observability::ReadinessCheck::new("event_consumer", move || {
            let mut redis = redis.clone();
            let streams = streams.clone();
            let group = group.clone();
            async move {
                for stream in &streams {
                    let groups: StreamInfoGroupsReply = redis::cmd("XINFO")
                        .arg("GROUPS")
                        .arg(stream)
                        .query_async(&mut redis)
                        .await
                        .map_err(|e| e.to_string())?;
                    if !groups.groups.iter().any(|g| g.name == group) {
                        return Err(format!("group {group} missing on {stream}"));
                    }
                }
                Ok(())
            }
        })
    }

    /// Runs until `shutdown` turns true. The entry in hand is finished (or left pending for
    /// redelivery), never half-applied: its transaction either commits or rolls back.
    pub fn spawn(mut self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            let mut last_claim: Option<Instant> = None;
            let mut last_gauges: Option<Instant> = None;
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let step = async {
                    if last_gauges.is_none_or(|at| at.elapsed() > Duration::from_secs(5)) {
                        self.update_gauges().await;
                        last_gauges = Some(Instant::now());
                    }
                    if self.process_own_pending().await? > 0 {
                        return Ok::<_, ProcessError>(());
                    }
                    if last_claim.is_none_or(|at| at.elapsed() > self.config.claim_idle / 2) {
                        last_claim = Some(Instant::now());
                        if self.claim_abandoned().await? > 0 {
                            return Ok(());
                        }
                    }
                    self.process_new().await
                };
                let outcome = tokio::select! {
                    biased;
                    outcome = step => outcome,
                    _ = shutdown.changed() => break,
                };
                match outcome {
                    Ok(()) => backoff = Duration::from_millis(100),
                    Err(ProcessError::Stopped) => return,
                    Err(ProcessError::Redis(error)) if error.code() == Some("NOGROUP") => {
                        // Redis lost the stream (restarted without persistence): make the group
                        // again; the stream starts over, so reading from its beginning is right.
                        tracing::warn!(group = %self.config.group, "consumer group missing; creating it again");
                        if let Err(error) = self.ensure_groups().await {
                            tracing::warn!(error = %observability::Chain(&error), "cannot create the consumer group");
                            tokio::time::sleep(backoff).await;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(group = %self.config.group, error = %observability::Chain(&error), retry_in = ?backoff, "consumer step failed");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
            tracing::info!(group = %self.config.group, consumer = %self.config.consumer, "consumer stopped");
        })
    }

    /// Acknowledges an entry done with: at once, or, for an idempotent handler, after its next
    /// flush ([`Self::settle`]).
    async fn done(&mut self, stream: &str, id: &str) -> Result<(), ProcessError> {
        if matches!(self.applier, apply::Applier::Idempotent { .. }) {
            self.applied.push((stream.to_owned(), id.to_owned()));
            Ok(())
        } else {
            self.ack(stream, id).await
        }
    }

    /// Flushes an idempotent handler and acknowledges what it applied since the last flush. If
    /// the flush fails nothing is acknowledged: the entries stay pending and are applied again.
    async fn settle(&mut self) -> Result<(), ProcessError> {
        if self.applied.is_empty() {
            return Ok(());
        }
        let applied = std::mem::take(&mut self.applied);
        if let apply::Applier::Idempotent { handler } = &self.applier
            && let Err(error) = handler.flush().await
        {
            tracing::warn!(group = %self.config.group, error = %observability::Chain(&error), entries = applied.len(), "flush failed; the entries will be applied again");
            return Ok(());
        }
        for (stream, id) in &applied {
            self.ack(stream, id).await?;
        }
        Ok(())
    }

    async fn ack(&self, stream: &str, id: &str) -> Result<(), ProcessError> {
        let mut redis = self.redis.clone();
        let _: i64 = redis::cmd("XACK").arg(stream).arg(&self.config.group).arg(id).query_async(&mut redis).await?;
        Ok(())
    }

    fn count(&self, event_type: &str, outcome: &str) {
        self.metrics.consumed.with_label_values(&[&self.config.group, event_type, outcome]).inc();
    }

    async fn update_gauges(&self) {
        let mut redis = self.redis.clone();
        for stream in &self.config.streams {
            let groups: redis::RedisResult<StreamInfoGroupsReply> =
                redis::cmd("XINFO").arg("GROUPS").arg(stream).query_async(&mut redis).await;
            if let Some(group) = groups.ok().and_then(|g| g.groups.into_iter().find(|g| g.name == self.config.group)) {
                let labels = [self.config.group.as_str(), stream.as_str()];
                self.metrics.pending.with_label_values(&labels).set(group.pending as i64);
                self.metrics.lag.with_label_values(&labels).set(group.lag.unwrap_or(0) as i64);
            }
        }
    }
}
