//! Consumer groups. One group per consuming service, one consumer per replica. Each entry is
//! applied in a database transaction that first records its event id in the service's
//! `processed_events` table, so a redelivered event is a no-op; XACK follows the commit. On
//! start a consumer drains its own pending entries; XAUTOCLAIM takes over entries left idle by
//! dead consumers; a failing entry is retried with backoff and, after `max_deliveries`, moved to
//! the group's dead-letter stream with its error, so later events keep flowing.
//!
//! The consuming service's migrations create:
//!
//! ```sql
//! create table processed_events (
//!     event_id uuid primary key,
//!     event_type text not null,
//!     processed_at timestamptz not null default now()
//! );
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamInfoGroupsReply, StreamPendingCountReply, StreamReadReply};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Envelope, EventMetrics, dead_letter_stream, failpoint};

/// What a handler did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The event changed this service's state.
    Applied,
    /// The event is of no interest to this service (or of a type or version it does not know);
    /// it is recorded and acknowledged all the same.
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
}

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
        }
    }
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
    pool: PgPool,
    redis: ConnectionManager,
    config: ConsumerConfig,
    handler: Arc<dyn Handler>,
    metrics: EventMetrics,
    /// Entries that failed, and when they may be tried again.
    retry_at: HashMap<String, Instant>,
}

impl Consumer {
    /// Opens the consumer's own Redis connection (its blocking reads must not stall others).
    pub async fn connect(
        pool: PgPool,
        redis_url: &str,
        config: ConsumerConfig,
        handler: Arc<dyn Handler>,
        metrics: EventMetrics,
    ) -> redis::RedisResult<Self> {
        let client = redis::Client::open(redis_url)?;
        let manager_config =
            ConnectionManagerConfig::new().set_response_timeout(Some(config.block + Duration::from_secs(5)));
        let redis = ConnectionManager::new_with_config(client, manager_config).await?;
        let consumer = Self { pool, redis, config, handler, metrics, retry_at: HashMap::new() };
        consumer.ensure_groups().await?;
        Ok(consumer)
    }

    /// Creates the group on each stream (from the beginning, so events published before the
    /// service first started are not missed).
    pub async fn ensure_groups(&self) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        for stream in &self.config.streams {
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(stream)
                .arg(&self.config.group)
                .arg("0")
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
    pub fn readiness(&self, redis: ConnectionManager) -> observability::ReadinessCheck {
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
                            tracing::warn!(%error, "cannot create the consumer group");
                            tokio::time::sleep(backoff).await;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(group = %self.config.group, %error, retry_in = ?backoff, "consumer step failed");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
            tracing::info!(group = %self.config.group, consumer = %self.config.consumer, "consumer stopped");
        })
    }

    /// Entries delivered to this consumer and not acknowledged (a previous run died, a handler
    /// failed, or they were just claimed), whose retry time has come.
    async fn process_own_pending(&mut self) -> Result<usize, ProcessError> {
        let mut done = 0;
        for stream in self.config.streams.clone() {
            let mut redis = self.redis.clone();
            let pending: StreamPendingCountReply = redis::cmd("XPENDING")
                .arg(&stream)
                .arg(&self.config.group)
                .arg("-")
                .arg("+")
                .arg(self.config.batch_size)
                .arg(&self.config.consumer)
                .query_async(&mut redis)
                .await?;
            let now = Instant::now();
            for entry in pending.ids {
                if self.retry_at.get(&entry.id).is_some_and(|at| *at > now) {
                    continue;
                }
                let read: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg(&self.config.group)
                    .arg(&self.config.consumer)
                    .arg("COUNT")
                    .arg(1)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(previous_id(&entry.id))
                    .query_async(&mut redis)
                    .await;
                let read = match read {
                    Ok(read) => read,
                    Err(error) if error.is_io_error() || error.is_timeout() || error.is_connection_dropped() => {
                        return Err(error.into());
                    }
                    // A pending entry deleted from the stream comes back without fields, which
                    // does not parse: there is nothing left to apply, and it must not wedge us.
                    Err(error) => {
                        tracing::warn!(group = %self.config.group, %stream, id = %entry.id, %error, "unreadable pending entry acknowledged");
                        None
                    }
                };
                let message = read.and_then(|r| r.keys.into_iter().next()).and_then(|k| k.ids.into_iter().next());
                match message {
                    Some(message) if message.id == entry.id => {
                        self.process(&stream, message, entry.times_delivered as u64).await?;
                    }
                    // Trimmed from the stream while pending: nothing left to apply.
                    _ => self.ack(&stream, &entry.id).await?,
                }
                done += 1;
            }
        }
        Ok(done)
    }

    /// Takes over entries idle too long in the pending lists of other (dead) consumers.
    async fn claim_abandoned(&mut self) -> Result<usize, ProcessError> {
        let mut claimed = 0;
        for stream in &self.config.streams {
            let mut redis = self.redis.clone();
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(stream)
                .arg(&self.config.group)
                .arg(&self.config.consumer)
                .arg(self.config.claim_idle.as_millis() as u64)
                .arg("0-0")
                .arg("COUNT")
                .arg(self.config.batch_size)
                .arg("JUSTID")
                .query_async(&mut redis)
                .await?;
            if !reply.claimed.is_empty() {
                tracing::info!(group = %self.config.group, %stream, count = reply.claimed.len(), "claimed entries of a dead consumer");
            }
            claimed += reply.claimed.len();
        }
        Ok(claimed)
    }

    /// New entries, waiting up to `block` for them.
    async fn process_new(&mut self) -> Result<(), ProcessError> {
        let mut redis = self.redis.clone();
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.config.group)
            .arg(&self.config.consumer)
            .arg("COUNT")
            .arg(self.config.batch_size)
            .arg("BLOCK")
            .arg(self.block_for().as_millis() as u64)
            .arg("STREAMS");
        for stream in &self.config.streams {
            cmd.arg(stream);
        }
        for _ in &self.config.streams {
            cmd.arg(">");
        }
        let read: Option<StreamReadReply> = cmd.query_async(&mut redis).await?;
        for key in read.map(|r| r.keys).unwrap_or_default() {
            for message in key.ids {
                self.process(&key.key, message, 1).await?;
            }
        }
        Ok(())
    }

    /// Blocks no longer than until the next retry is due.
    fn block_for(&self) -> Duration {
        let now = Instant::now();
        let next_retry = self.retry_at.values().map(|at| at.saturating_duration_since(now)).min();
        next_retry.map_or(self.config.block, |d| d.clamp(Duration::from_millis(10), self.config.block))
    }

    async fn process(&mut self, stream: &str, message: StreamId, deliveries: u64) -> Result<(), ProcessError> {
        let raw: Option<String> = message.get("envelope");
        let envelope = match raw.as_deref().map(serde_json::from_str::<Envelope>) {
            Some(Ok(envelope)) => envelope,
            other => {
                let error = match other {
                    Some(Err(e)) => format!("unreadable envelope: {e}"),
                    _ => "entry without an envelope".to_owned(),
                };
                return self.dead_letter(stream, &message, "unknown", raw.as_deref(), &error, None).await;
            }
        };
        let event_type = envelope.event_type.clone();
        let span = tracing::info_span!("event", event_id = %envelope.id, event_type = %event_type,
            request_id = envelope.request_id.as_deref().unwrap_or(""), group = %self.config.group);
        let _entered = span.enter();

        let mut tx = self.pool.begin().await?;
        let first_time =
            sqlx::query("insert into processed_events (event_id, event_type) values ($1, $2) on conflict do nothing")
                .bind(envelope.id)
                .bind(&event_type)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if !first_time {
            tx.rollback().await?;
            self.count(&event_type, "duplicate");
            return self.ack(stream, &message.id).await;
        }
        match self.handler.handle(&mut tx, &envelope).await {
            Ok(handled) => {
                tx.commit().await?;
                if failpoint::fires(&format!("consumer.after_commit:{}", self.config.key_prefix)) {
                    // As if the process died between commit and XACK.
                    return Err(ProcessError::Stopped);
                }
                self.retry_at.remove(&message.id);
                self.count(&event_type, if handled == Handled::Applied { "applied" } else { "ignored" });
                self.ack(stream, &message.id).await
            }
            Err(error) => {
                tx.rollback().await?;
                self.count(&event_type, "failed");
                tracing::warn!(deliveries, error = %error, "event handler failed");
                if deliveries >= self.config.max_deliveries {
                    let shown = Some(envelope.redacted());
                    return self.dead_letter(stream, &message, &event_type, raw.as_deref(), &error.0, shown).await;
                }
                // Count the retry as a delivery (XCLAIM to ourselves bumps the counter) and
                // wait before the next one.
                let mut redis = self.redis.clone();
                let _: redis::Value = redis::cmd("XCLAIM")
                    .arg(stream)
                    .arg(&self.config.group)
                    .arg(&self.config.consumer)
                    .arg(0)
                    .arg(&message.id)
                    .query_async(&mut redis)
                    .await?;
                let delay = self.config.retry_base.saturating_mul(1 << deliveries.min(16)).min(self.config.retry_max);
                self.retry_at.insert(message.id.clone(), Instant::now() + delay);
                Ok(())
            }
        }
    }

    /// Moves an entry to the group's dead-letter stream with its error, then acknowledges it.
    async fn dead_letter(
        &mut self,
        stream: &str,
        message: &StreamId,
        event_type: &str,
        original: Option<&str>,
        error: &str,
        shown: Option<serde_json::Value>,
    ) -> Result<(), ProcessError> {
        let mut redis = self.redis.clone();
        let _: String = redis::cmd("XADD")
            .arg(dead_letter_stream(&self.config.key_prefix, &self.config.group))
            .arg("*")
            .arg("stream")
            .arg(stream)
            .arg("id")
            .arg(&message.id)
            .arg("type")
            .arg(event_type)
            .arg("error")
            .arg(error)
            .arg("envelope")
            .arg(original.unwrap_or(""))
            .query_async(&mut redis)
            .await?;
        // The log shows the event with its secret payload fields redacted; the dead-letter
        // stream keeps the original, so the event can be replayed once the cause is fixed.
        let shown = shown.map(|v| v.to_string()).unwrap_or_default();
        tracing::error!(group = %self.config.group, %stream, id = %message.id, event_type, error, event = %shown, "event dead-lettered");
        self.metrics.dead_lettered.with_label_values(&[&self.config.group, event_type]).inc();
        self.retry_at.remove(&message.id);
        self.ack(stream, &message.id).await
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

/// The id just before `id`, so that XREADGROUP's history read (which returns ids greater than
/// the one given) starts exactly at `id`.
fn previous_id(id: &str) -> String {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    let (ms, seq): (u64, u64) = (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0));
    if seq > 0 {
        format!("{ms}-{}", seq - 1)
    } else if ms > 0 {
        format!("{}-{}", ms - 1, u64::MAX)
    } else {
        "0-0".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::previous_id;

    #[test]
    fn the_previous_id_is_just_before() {
        assert_eq!(previous_id("1700-5"), "1700-4");
        assert_eq!(previous_id("1700-0"), format!("1699-{}", u64::MAX));
        assert_eq!(previous_id("0-0"), "0-0");
    }
}
