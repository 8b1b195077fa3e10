//! The sender: delivers pending messages through their channel's transport, retrying with
//! exponential backoff; woken by NOTIFY when a message is recorded, polling as a backstop.
//! Replicas share the queue: a batch is claimed by one statement (a lease, not a lock), sent
//! with no transaction open, and each outcome recorded by a statement of its own.

use std::sync::Arc;
use std::time::Duration;

use prometheus::IntCounterVec;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::SenderTuning;
use crate::store::{self, WAKE_CHANNEL};
use crate::transport::{TransportError, Transports};

pub(crate) struct Sender {
    pool: PgPool,
    transports: Arc<Transports>,
    tuning: SenderTuning,
    sent: IntCounterVec,
}

const BATCH: i64 = 20;

/// How long a claimed batch stays this sender's: longer than its sends can take (one at a time,
/// each bounded by its transport's timeouts).
const LEASE: Duration = Duration::from_secs(600);

impl Sender {
    pub(crate) fn new(
        pool: PgPool,
        transports: Arc<Transports>,
        tuning: SenderTuning,
        metrics: &observability::Metrics,
    ) -> Self {
        let sent = IntCounterVec::new(
            prometheus::Opts::new(
                "notifications_total",
                "Delivery attempts by channel, kind and outcome (sent, retry, failed).",
            ),
            &["channel", "kind", "outcome"],
        )
        .expect("valid metric");
        metrics.register(Box::new(sent.clone())).expect("registered once");
        Self { pool, transports, tuning, sent }
    }

    /// One pass over due messages; returns how many were attempted.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn send_due(&self) -> sqlx::Result<usize> {
        let due = store::claim_due(&self.pool, BATCH, LEASE).await?;
        for message in &due {
            let outcome = self.transports.send(message).await;
            let mut conn = self.pool.acquire().await?;
            let labels = |outcome: &'static str| [message.channel.clone(), message.kind.clone(), outcome.to_owned()];
            match outcome {
                Ok(provider_id) => {
                    store::mark_sent(&mut conn, message.id, &provider_id).await?;
                    self.sent.with_label_values(&labels("sent")).inc();
                    tracing::info!(message_id = %message.id, kind = %message.kind, channel = %message.channel, "message sent");
                }
                Err(error) => {
                    let attempts = message.attempts + 1;
                    let retry = matches!(error, TransportError::Temporary(_)) && attempts < self.tuning.max_attempts;
                    let retry_at = retry.then(|| {
                        let delay =
                            self.tuning.retry_base.saturating_mul(1 << attempts.min(12)).min(Duration::from_secs(3600));
                        chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default()
                    });
                    store::mark_attempt_failed(&mut conn, message.id, &error.to_string(), retry_at).await?;
                    self.sent.with_label_values(&labels(if retry { "retry" } else { "failed" })).inc();
                    tracing::warn!(message_id = %message.id, attempts, error = %service_kit::Chain(&error), retry, "sending failed");
                }
            }
        }
        Ok(due.len())
    }

    pub(crate) fn spawn(self, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let wake = events::wake::Wake::new(self.pool.clone(), WAKE_CHANNEL, self.tuning.poll_interval);
            wake.drain(shutdown, BATCH as usize, || self.send_due()).await;
        })
    }
}
