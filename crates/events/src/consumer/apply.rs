//! Applying one entry: decode its envelope, then hand it to the service's handler through the
//! consumer's [`Applier`]: in a transaction that first records the event id in
//! `processed_events` (a service with a database), or directly to a handler that is idempotent
//! by construction (a service without one). A failure is retried with backoff, then
//! dead-lettered.

use std::sync::Arc;
use std::time::Instant;

use redis::streams::StreamId;
use sqlx::PgPool;
use tracing::Instrument;

use super::{Consumer, Handled, Handler, HandlerError, IdempotentHandler, ProcessError};
use crate::{Envelope, failpoint};

/// How a consumer applies an event.
pub(super) enum Applier {
    /// In the service's database: the effects and the processed-event record commit together.
    Transactional { pool: PgPool, handler: Arc<dyn Handler> },
    /// Without a database: the handler's effects are idempotent (upsert by version, set
    /// semantics), so a redelivery is harmless; the entry is acknowledged after it succeeds.
    Idempotent { handler: Arc<dyn IdempotentHandler> },
}

/// What applying one event came to.
pub(super) enum Applied {
    /// Already processed (transactional consumers only).
    Duplicate,
    Done(Handled),
    Failed(HandlerError),
}

impl Applier {
    pub(super) async fn apply(&self, envelope: &Envelope, key_prefix: &str) -> Result<Applied, ProcessError> {
        match self {
            Applier::Transactional { pool, handler } => {
                if !handler.wants(&envelope.event_type) {
                    return Ok(Applied::Done(Handled::Ignored));
                }
                let mut tx = pool.begin().await?;
                if !crate::schema::record_processed(&mut tx, envelope.id, &envelope.event_type).await? {
                    tx.rollback().await?;
                    return Ok(Applied::Duplicate);
                }
                match handler.handle(&mut tx, envelope).await {
                    Ok(handled) => {
                        tx.commit().await?;
                        if matches!(handled, Handled::Applied) {
                            handler.committed(envelope).await;
                        }
                        if failpoint::fires("consumer.after_commit", key_prefix) {
                            // As if the process died between commit and XACK.
                            return Err(ProcessError::Stopped);
                        }
                        Ok(Applied::Done(handled))
                    }
                    Err(error) => {
                        tx.rollback().await?;
                        Ok(Applied::Failed(error))
                    }
                }
            }
            Applier::Idempotent { handler } => match handler.handle(envelope).await {
                Ok(handled) => {
                    if failpoint::fires("consumer.after_commit", key_prefix) {
                        return Err(ProcessError::Stopped);
                    }
                    Ok(Applied::Done(handled))
                }
                Err(error) => Ok(Applied::Failed(error)),
            },
        }
    }
}

impl Consumer {
    pub(super) async fn process(
        &mut self,
        stream: &str,
        message: StreamId,
        deliveries: u64,
    ) -> Result<(), ProcessError> {
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
        // A stream is written by its owner only: an envelope claiming another producer is forged
        // (or misrouted) and is never applied (review M8).
        let owner = crate::stream_domain(&self.config.key_prefix, stream);
        if owner != Some(envelope.producer.as_str()) {
            let error = format!("producer {:?} may not publish on {stream}", envelope.producer);
            let shown = Some(envelope.redacted());
            return self.dead_letter(stream, &message, &envelope.event_type, raw.as_deref(), &error, shown).await;
        }
        let event_type = envelope.event_type.clone();
        // The span is attached to the future, never held across an await by a guard.
        let span = tracing::info_span!("event", event_id = %envelope.id, event_type = %event_type,
            request_id = envelope.request_id.as_deref().unwrap_or(""), group = %self.config.group);
        let applied = self.applier.apply(&envelope, &self.config.key_prefix).instrument(span.clone()).await?;
        match applied {
            Applied::Duplicate => {
                self.count(&event_type, "duplicate");
                self.ack(stream, &message.id).await
            }
            Applied::Done(handled) => {
                self.retry_at.remove(&message.id);
                self.count(&event_type, if handled == Handled::Applied { "applied" } else { "ignored" });
                self.done(stream, &message.id).await
            }
            Applied::Failed(error) => {
                self.count(&event_type, "failed");
                span.in_scope(
                    || tracing::warn!(deliveries, error = %observability::Chain(&error), "event handler failed"),
                );
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
}
