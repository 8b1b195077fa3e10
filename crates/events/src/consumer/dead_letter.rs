//! Entries that cannot be applied: after `max_deliveries` an entry moves to the group's
//! dead-letter stream with its error (the original kept for replay, the log redacted), and is
//! acknowledged so later events keep flowing.

use redis::streams::StreamId;

use super::{Consumer, ProcessError};
use crate::dead_letter_stream;

/// How long a dead letter is kept for an operator to look at and replay: 30 days.
pub(super) const DEAD_LETTER_RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl Consumer {
    /// Moves an entry to the group's dead-letter stream with its error, then acknowledges it.
    pub(super) async fn dead_letter(
        &mut self,
        stream: &str,
        message: &StreamId,
        event_type: &str,
        original: Option<&str>,
        error: &str,
        shown: Option<serde_json::Value>,
    ) -> Result<(), ProcessError> {
        let mut redis = self.redis.clone();
        // Bounded (review f5592e3 L7: dead letters kept personal data for ever): the newest
        // DEAD_LETTERS_KEPT, and none older than DEAD_LETTER_RETENTION.
        let oldest = chrono::Utc::now().timestamp_millis() - DEAD_LETTER_RETENTION.as_millis() as i64;
        let _: String = redis::cmd("XADD")
            .arg(dead_letter_stream(&self.config.key_prefix, &self.config.group))
            .arg("MINID")
            .arg(oldest.max(0))
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
        observability::errors::dead_letter(&self.config.group, stream, event_type, &message.id);
        self.retry_at.remove(&message.id);
        self.ack(stream, &message.id).await
    }
}
