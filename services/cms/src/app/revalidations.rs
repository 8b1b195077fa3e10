//! The revalidator: tells the storefront what to refresh after each publication (Next.js
//! on-demand revalidation: a POST naming paths and tags, with the shared secret as a bearer
//! token), retrying with exponential backoff; every call is recorded with its outcome. Woken by
//! NOTIFY when a revalidation is queued, polling as a backstop; replicas share the queue. A
//! batch is claimed by one statement (a lease, not a lock), called outside any transaction,
//! and each outcome recorded in a transaction of its own.

use std::time::Duration;

use prometheus::IntCounterVec;
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{CmsConfig, Revalidation};
use crate::store::{self, WAKE_CHANNEL};

const BATCH: i64 = 20;

/// How long a claimed batch stays this sender's: longer than its calls can take (one at a
/// time, each at most [`CALL_TIMEOUT`]).
const LEASE: Duration = Duration::from_secs(BATCH as u64 * CALL_TIMEOUT.as_secs() + 60);

const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Revalidator {
    pool: PgPool,
    hook: Revalidation,
    http: reqwest::Client,
    retry_base: Duration,
    max_attempts: i32,
    poll_interval: Duration,
    calls: IntCounterVec,
}

/// Why a call did not succeed, and whether trying again may help.
struct Failure {
    status: Option<u16>,
    error: String,
    retry: bool,
}

impl Revalidator {
    pub(crate) fn new(pool: PgPool, hook: Revalidation, config: &CmsConfig, metrics: &observability::Metrics) -> Self {
        let calls = IntCounterVec::new(
            prometheus::Opts::new(
                "cms_revalidations_total",
                "Storefront revalidation calls by outcome (sent, retry, failed).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        metrics.register(Box::new(calls.clone())).expect("registered once");
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            pool,
            hook,
            http,
            retry_base: config.retry_base,
            max_attempts: config.max_attempts,
            poll_interval: config.poll_interval,
            calls,
        }
    }

    /// One pass over due revalidations; how many were attempted.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn send_due(&self) -> sqlx::Result<usize> {
        let due = store::claim_due_revalidations(&self.pool, BATCH, LEASE).await?;
        for revalidation in &due {
            let outcome = self.call(revalidation).await;
            let mut tx = self.pool.begin().await?;
            match outcome {
                Ok(status) => {
                    store::record_attempt(&mut tx, revalidation, Some(status), None, None).await?;
                    self.calls.with_label_values(&["sent"]).inc();
                    tracing::info!(key = %revalidation.key, kind = %revalidation.kind, "storefront revalidated");
                }
                Err(failure) => {
                    let attempts = revalidation.attempts + 1;
                    let retry = failure.retry && attempts < self.max_attempts;
                    let retry_at = retry.then(|| {
                        let delay =
                            self.retry_base.saturating_mul(1 << attempts.min(12)).min(Duration::from_secs(3600));
                        chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default()
                    });
                    store::record_attempt(&mut tx, revalidation, failure.status, Some(&failure.error), retry_at)
                        .await?;
                    self.calls.with_label_values(&[if retry { "retry" } else { "failed" }]).inc();
                    tracing::warn!(key = %revalidation.key, attempts, error = %failure.error, retry, "revalidation failed");
                }
            }
            tx.commit().await?;
        }
        Ok(due.len())
    }

    /// One call; the status on success (any 2xx).
    async fn call(&self, revalidation: &store::Revalidation) -> Result<u16, Failure> {
        let body = json!({
            "paths": revalidation.paths.0,
            "tags": revalidation.tags.0,
            "kind": revalidation.kind,
            "key": revalidation.key,
            "event_id": revalidation.event_id,
        });
        let response = self
            .http
            .post(&self.hook.url)
            .bearer_auth(self.hook.secret.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|error| Failure { status: None, error: format!("unreachable: {error}"), retry: true })?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        // A refused secret or a malformed call will not get better by retrying; an overloaded
        // or failing storefront may.
        let retry = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
        Err(Failure { status: Some(status.as_u16()), error: format!("answered {status}"), retry })
    }

    pub(crate) fn spawn(self, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let wake = events::wake::Wake::new(self.pool.clone(), WAKE_CHANNEL, self.poll_interval);
            wake.drain(shutdown, BATCH as usize, || self.send_due()).await;
        })
    }
}
