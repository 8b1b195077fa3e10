//! Login throttling, independent of the gateway's limiter: failed logins are counted per account
//! and per client IP in fixed windows; past the limit, logins are refused with 429 before any
//! password is checked. A success clears the account's count. If Redis is unreachable the count
//! is skipped (logged): argon2's cost and the gateway's limits still bound guessing.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub per_account: u32,
    pub per_ip: u32,
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { per_account: 5, per_ip: 50, window: Duration::from_secs(15 * 60) }
    }
}

#[derive(Clone)]
pub struct Throttle {
    redis: ConnectionManager,
    prefix: String,
    policy: ThrottlePolicy,
}

impl Throttle {
    pub fn new(redis: ConnectionManager, prefix: String, policy: ThrottlePolicy) -> Self {
        Self { redis, prefix, policy }
    }

    fn keys(&self, account: &str, ip: Option<&str>) -> (String, Option<String>) {
        (format!("{}login-fail:acct:{account}", self.prefix), ip.map(|ip| format!("{}login-fail:ip:{ip}", self.prefix)))
    }

    /// `Err(retry_after)` when this account or IP has failed too often lately.
    pub async fn check(&self, account: &str, ip: Option<&str>) -> Result<(), Duration> {
        let (account_key, ip_key) = self.keys(account, ip);
        let mut redis = self.redis.clone();
        for (key, limit) in [(Some(account_key), self.policy.per_account), (ip_key, self.policy.per_ip)] {
            let Some(key) = key else { continue };
            match redis.get::<_, Option<u32>>(&key).await {
                Ok(Some(count)) if count >= limit => {
                    let ttl: i64 = redis.ttl(&key).await.unwrap_or(self.policy.window.as_secs() as i64);
                    return Err(Duration::from_secs(ttl.max(1) as u64));
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "login throttle unavailable"),
            }
        }
        Ok(())
    }

    pub async fn failed(&self, account: &str, ip: Option<&str>) {
        let (account_key, ip_key) = self.keys(account, ip);
        let mut redis = self.redis.clone();
        for key in std::iter::once(account_key).chain(ip_key) {
            let counted: redis::RedisResult<()> = redis::pipe()
                .atomic()
                .incr(&key, 1)
                .cmd("EXPIRE")
                .arg(&key)
                .arg(self.policy.window.as_secs())
                .arg("NX")
                .query_async(&mut redis)
                .await;
            if let Err(error) = counted {
                tracing::warn!(%error, "login throttle unavailable");
            }
        }
    }

    pub async fn succeeded(&self, account: &str) {
        let (account_key, _) = self.keys(account, None);
        let mut redis = self.redis.clone();
        let _: redis::RedisResult<()> = redis.del(account_key).await;
    }
}
