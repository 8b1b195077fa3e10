//! The relay: moves outbox rows to the producer's stream. Woken by NOTIFY at commit, polling as
//! a backstop; batches taken with `FOR UPDATE SKIP LOCKED` so replicas share the work; a row is
//! marked sent only after XADD succeeded, in the same transaction that locked it. A relay that
//! dies mid-batch leaves its rows unsent: they are published again, and consumers absorb the
//! duplicates by event id. Order across batches is not guaranteed.

use std::time::{Duration, Instant};

use crate::redis_target::Connection;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::wake::Wake;
use crate::{EventMetrics, failpoint, outbox, stream_name};

#[derive(Clone, Debug)]
pub struct RelayConfig {
    pub producer: String,
    /// The producer's schema (names the NOTIFY channel).
    pub schema: String,
    pub key_prefix: String,
    pub batch_size: i64,
    /// How often to look for rows when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// Approximate cap of each stream (MAXLEN ~). With the default a consumer may be down for
    /// hours at hundreds of events per second before unread entries are trimmed.
    pub stream_maxlen: usize,
    /// How long an entry stays in its stream at most (review f5592e3 L7: envelopes carry
    /// emails and addresses): the relay trims entries older than this (`XTRIM MINID`, exact: old entries sit at the head, so it is cheap) as it
    /// publishes, so personal data in a stream lives about this long (7 days by default; a
    /// consumer down longer than that misses events, as one down past `stream_maxlen` would).
    pub stream_retention: Duration,
    /// How long sent rows stay in the outbox before they are pruned.
    pub sent_retention: Duration,
}

impl RelayConfig {
    pub fn new(producer: &str, schema: &str, key_prefix: &str) -> Self {
        Self {
            producer: producer.to_owned(),
            schema: schema.to_owned(),
            key_prefix: key_prefix.to_owned(),
            batch_size: 200,
            poll_interval: Duration::from_secs(1),
            stream_maxlen: 1_000_000,
            stream_retention: Duration::from_secs(7 * 24 * 3600),
            sent_retention: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stream: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stopped at a failpoint")]
    Stopped,
}

#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    redis: Connection,
    config: RelayConfig,
    metrics: EventMetrics,
}

type OutboxRow = (Uuid, String, String, sqlx::types::Json<serde_json::Value>);

impl Relay {
    pub fn new(pool: PgPool, redis: Connection, config: RelayConfig, metrics: EventMetrics) -> Self {
        Self { pool, redis, config, metrics }
    }

    /// A relay for a producer whose schema may not have its outbox yet: makes it first, so the
    /// service's handlers can enqueue from their first request.
    pub async fn start(
        pool: PgPool,
        redis: Connection,
        config: RelayConfig,
        metrics: EventMetrics,
    ) -> sqlx::Result<Self> {
        crate::schema::ensure_outbox(&pool).await?;
        Ok(Self::new(pool, redis, config, metrics))
    }

    /// Publishes one batch; returns how many events went out.
    #[tracing::instrument(skip_all, fields(producer = %self.config.producer))]
    pub async fn publish_batch(&self) -> Result<usize, RelayError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "select id, domain, event_type, envelope from outbox where sent_at is null \
             order by created_at, id limit $1 for update skip locked",
        )
        .bind(self.config.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        // A failure gives the rows back at once (an explicit rollback: a dropped transaction's
        // rollback waits for its connection's next use, and until then the rows stay locked and
        // every other batch skips them).
        if let Err(error) = self.publish(&rows).await {
            let _ = tx.rollback().await;
            return Err(error);
        }
        let mut redis = self.redis.clone();
        self.trim(&mut redis, &rows).await;
        let ids: Vec<Uuid> = rows.iter().map(|row| row.0).collect();
        sqlx::query("update outbox set sent_at = now() where id = any($1)").bind(&ids).execute(&mut *tx).await?;
        tx.commit().await?;
        for (_, domain, event_type, _) in &rows {
            self.metrics.published.with_label_values(&[&stream_name("", domain), event_type]).inc();
        }
        Ok(rows.len())
    }

    /// XADDs the rows to their streams, half a batch per pipeline.
    async fn publish(&self, rows: &[OutboxRow]) -> Result<(), RelayError> {
        let mut redis = self.redis.clone();
        let (first, second) = rows.split_at(rows.len().div_ceil(2));
        for (index, half) in [first, second].into_iter().enumerate() {
            if index == 1 && failpoint::fires("relay.mid_batch", &self.config.key_prefix) {
                // As if the process died here: half published, nothing marked sent.
                return Err(RelayError::Stopped);
            }
            if half.is_empty() {
                continue;
            }
            let mut pipe = redis::pipe();
            for (_, domain, event_type, envelope) in half {
                pipe.cmd("XADD")
                    .arg(stream_name(&self.config.key_prefix, domain))
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(self.config.stream_maxlen)
                    .arg("*")
                    .arg("type")
                    .arg(event_type)
                    .arg("envelope")
                    .arg(envelope.0.to_string());
            }
            let _: Vec<String> = pipe.query_async(&mut redis).await?;
        }
        Ok(())
    }

    /// Deletes rows sent longer ago than the retention (they may carry one-time secrets).
    /// Trims the streams just published to of entries past their retention. A failure (say a
    /// Redis whose ACL users predate the trim) is logged and never holds up publishing.
    async fn trim(&self, redis: &mut Connection, rows: &[OutboxRow]) {
        let oldest = chrono::Utc::now().timestamp_millis() - self.config.stream_retention.as_millis() as i64;
        let streams: std::collections::BTreeSet<&str> = rows.iter().map(|row| row.1.as_str()).collect();
        for domain in streams {
            let trimmed: redis::RedisResult<i64> = redis::cmd("XTRIM")
                .arg(stream_name(&self.config.key_prefix, domain))
                .arg("MINID")
                .arg(oldest.max(0))
                .query_async(redis)
                .await;
            if let Err(error) = trimmed {
                tracing::warn!(error = %observability::Chain(&error), domain, "the stream could not be trimmed by age; its MAXLEN still bounds it");
            }
        }
    }

    pub async fn prune(&self) -> sqlx::Result<u64> {
        let retention_secs = self.config.sent_retention.as_secs_f64();
        let result = sqlx::query("delete from outbox where sent_at < now() - make_interval(secs => $1)")
            .bind(retention_secs)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn update_backlog(&self) {
        if let Ok(count) = sqlx::query_scalar::<_, i64>("select count(*) from outbox where sent_at is null")
            .fetch_one(&self.pool)
            .await
        {
            self.metrics.outbox_backlog.set(count);
        }
    }

    /// Runs until `shutdown` turns true; a batch in progress finishes first.
    pub fn spawn(self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut wake =
                Wake::new(self.pool.clone(), outbox::channel(&self.config.schema), self.config.poll_interval);
            let mut backoff = Duration::from_millis(100);
            let mut last_prune: Option<Instant> = None;
            loop {
                if *shutdown.borrow() {
                    break;
                }
                wake.listen().await;
                match self.publish_batch().await {
                    Ok(published) => {
                        backoff = Duration::from_millis(100);
                        if published as i64 >= self.config.batch_size {
                            continue;
                        }
                    }
                    Err(RelayError::Stopped) => return,
                    Err(error) => {
                        self.metrics.relay_failures.with_label_values(&[&self.config.producer]).inc();
                        tracing::warn!(error = %observability::Chain(&error), retry_in = ?backoff, "relay batch failed; rows stay in the outbox");
                        tokio::select! {
                            _ = shutdown.changed() => break,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
                self.update_backlog().await;
                if last_prune.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                    if let Err(error) = self.prune().await {
                        tracing::warn!(error = %observability::Chain(&error), "pruning the outbox failed");
                    }
                    last_prune = Some(Instant::now());
                }
                if !wake.wait(&mut shutdown).await {
                    break;
                }
            }
            tracing::info!(producer = %self.config.producer, "relay stopped");
        })
    }
}
