//! Reading a group's entries: this consumer's own pending entries first (a previous run died,
//! a handler failed, or they were just claimed), then entries left idle by dead consumers
//! (XAUTOCLAIM), then new ones (XREADGROUP, blocking no longer than the next retry).

use std::time::{Duration, Instant};

use redis::streams::{StreamAutoClaimReply, StreamPendingCountReply, StreamReadReply};

use super::{Consumer, ProcessError};

impl Consumer {
    /// Entries delivered to this consumer and not acknowledged (a previous run died, a handler
    /// failed, or they were just claimed), whose retry time has come.
    pub(super) async fn process_own_pending(&mut self) -> Result<usize, ProcessError> {
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
                        tracing::warn!(group = %self.config.group, %stream, id = %entry.id, error = %observability::Chain(&error), "unreadable pending entry acknowledged");
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
        self.settle().await?;
        Ok(done)
    }

    /// Takes over entries idle too long in the pending lists of other (dead) consumers.
    pub(super) async fn claim_abandoned(&mut self) -> Result<usize, ProcessError> {
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
    pub(super) async fn process_new(&mut self) -> Result<(), ProcessError> {
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
        self.settle().await
    }

    /// Blocks no longer than until the next retry is due.
    pub(super) fn block_for(&self) -> Duration {
        let now = Instant::now();
        let next_retry = self.retry_at.values().map(|at| at.saturating_duration_since(now)).min();
        next_retry.map_or(self.config.block, |d| d.clamp(Duration::from_millis(10), self.config.block))
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
