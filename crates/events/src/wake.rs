//! Waking a background loop: on a NOTIFY of its channel (sent at commit by whoever made work
//! for it), after a poll interval as a backstop, or not at all when shutdown is signalled.
//! Used by the outbox relay and by other queue-draining loops (the notification sender).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

pub struct Wake {
    pool: PgPool,
    channel: String,
    poll: Duration,
    listener: Option<PgListener>,
}

impl Wake {
    pub fn new(pool: PgPool, channel: impl Into<String>, poll: Duration) -> Self {
        Self { pool, channel: channel.into(), poll, listener: None }
    }

    /// Starts listening if not already (call before looking for work, so nothing committed in
    /// between is missed). Failing to listen only leaves polling.
    pub async fn listen(&mut self) {
        if self.listener.is_none() {
            self.listener = match PgListener::connect_with(&self.pool).await {
                Ok(mut listener) => listener.listen(&self.channel).await.ok().map(|_| listener),
                Err(_) => None,
            };
        }
    }

    /// Waits for a notification or the poll interval; false when shutdown was signalled.
    pub async fn wait(&mut self, shutdown: &mut watch::Receiver<bool>) -> bool {
        let listener = &mut self.listener;
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => false,
            outcome = notified => {
                if outcome.is_err() {
                    // The connection broke: listen again next time, poll meanwhile.
                    self.listener = None;
                }
                true
            }
            _ = tokio::time::sleep(self.poll) => true,
        }
    }

    /// Drains a queue until shutdown: `pass` handles up to `batch` due items and says how many it
    /// took; a full batch goes again at once, anything less waits for a wake-up. A failed pass
    /// is logged and retried at the next wake-up.
    pub async fn drain<F, Fut>(mut self, mut shutdown: watch::Receiver<bool>, batch: usize, mut pass: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<usize>>,
    {
        loop {
            if *shutdown.borrow() {
                break;
            }
            self.listen().await;
            match pass().await {
                Ok(n) if n >= batch => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %observability::Chain(&error), channel = %self.channel, "queue pass failed")
                }
            }
            if !self.wait(&mut shutdown).await {
                break;
            }
        }
    }
}
