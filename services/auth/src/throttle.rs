//! Sign-in throttling, independent of the gateway's limiter. Every attempt is reserved before any
//! password is checked, atomically (one Lua script compares and counts), so N parallel guesses
//! get at most the limit's worth of argon2 verifications, never N.
//!
//! The counters of one window:
//! - per account and client network (`per_account_network`, 5): one client gets that many
//!   guesses at one account, the rest 429 with `Retry-After`;
//! - per account (`per_account`, 50): a ceiling only a distributed attack reaches, so one client
//!   cannot lock anybody else out (review L6);
//! - per client network (`per_network`, 50): one client guessing at many accounts;
//! - per account, wrong second-factor codes (`second_factor`, 5): an admin's password alone never
//!   buys more codes (review H1).
//!
//! A fully successful sign-in (password and, for an admin, the second factor) clears the
//! account's counters and gives back the network's reservation; a failure keeps them. If Redis
//! is unreachable the reservation is skipped (logged): argon2's cost and the gateway's limits
//! still bound guessing.

use std::time::Duration;

use service_kit::redis::Connection;

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub per_account_network: u32,
    pub per_account: u32,
    pub per_network: u32,
    pub second_factor: u32,
    pub window: Duration,
}

/// Reserves one attempt on every key, or none: KEYS are counters, ARGV[1] the window in
/// seconds, ARGV[2..] each key's limit. Returns 0 when reserved, else the seconds until the
/// fullest blocking counter expires.
const RESERVE: &str = r#"
local blocked = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then ttl = tonumber(ARGV[1]) end
    if ttl > blocked then blocked = ttl end
  end
end
if blocked > 0 then return blocked end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[1], 'NX')
end
return 0
"#;

#[derive(Clone)]
pub(crate) struct Throttle {
    redis: Connection,
    prefix: String,
    policy: ThrottlePolicy,
    script: std::sync::Arc<redis::Script>,
}

/// A reserved sign-in attempt: [`Throttle::succeeded`] clears it, anything else leaves it counted.
#[must_use = "a reservation is cleared on success and kept on failure"]
pub(crate) struct Attempt {
    account: String,
    network: String,
}

impl Attempt {
    /// The attempt failed: it stays counted (this only ends the reservation's life).
    pub(crate) fn failed(self) {
        drop(self);
    }
}

impl Throttle {
    pub(crate) fn new(redis: Connection, prefix: String, policy: ThrottlePolicy) -> Self {
        Self { redis, prefix, policy, script: std::sync::Arc::new(redis::Script::new(RESERVE)) }
    }

    /// The account's keys share a hash tag, so the script touches one Redis Cluster slot; the
    /// account is named by a digest of its normalized email (no address in Redis keys).
    fn account_key(&self, account: &str, what: &str) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, account.trim().to_lowercase().as_bytes());
        let tag: String = digest.as_ref()[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}login:{{{tag}}}:{what}", self.prefix)
    }

    fn network_key(&self, network: &str) -> String {
        format!("{}login:net:{{{network}}}", self.prefix)
    }

    /// Reserves a password attempt for `account` from client `network` (an IPv4 address or an
    /// IPv6 /64): `Err(retry_after)` when a limit is reached.
    pub(crate) async fn reserve(&self, account: &str, network: Option<&str>) -> Result<Attempt, Duration> {
        // The gateway always names the client; a call without it still counts, as one client.
        let network = network.unwrap_or("unknown");
        self.run(&[(self.network_key(network), self.policy.per_network)]).await?;
        let keys = [
            (self.account_key(account, "all"), self.policy.per_account),
            (self.account_key(account, &format!("net:{network}")), self.policy.per_account_network),
        ];
        if let Err(retry) = self.run(&keys).await {
            // The network counts only attempts that were made.
            self.give_back(&self.network_key(network)).await;
            return Err(retry);
        }
        Ok(Attempt { account: account.to_owned(), network: network.to_owned() })
    }

    /// How long the account's second factor stays locked, if too many wrong codes were sent.
    pub(crate) async fn second_factor_locked(&self, account: &str) -> Option<Duration> {
        let key = self.account_key(account, "second-factor");
        let mut redis = self.redis.clone();
        let state: redis::RedisResult<(Option<u32>, i64)> =
            redis::pipe().cmd("GET").arg(&key).cmd("TTL").arg(&key).query_async(&mut redis).await;
        match state {
            Ok((Some(count), ttl)) if count >= self.policy.second_factor => {
                Some(Duration::from_secs(if ttl > 0 { ttl as u64 } else { self.policy.window.as_secs() }))
            }
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(error = %service_kit::Chain(&error), "sign-in throttle unavailable");
                None
            }
        }
    }

    /// Reserves a second-factor attempt for `account` (per account only).
    pub(crate) async fn reserve_second_factor(&self, account: &str) -> Result<(), Duration> {
        self.run(&[(self.account_key(account, "second-factor"), self.policy.second_factor)]).await
    }

    /// The whole sign-in succeeded: the account starts over and the network's attempt is given back.
    pub(crate) async fn succeeded(&self, attempt: Attempt) {
        self.clear(attempt, true).await;
    }

    /// Only a password was checked (a signed-in account's step-up): its password counters start
    /// over, but never the second-factor one, which only a right second factor clears (review
    /// f5592e3 L9: else a password check between wrong codes would allow unlimited guesses).
    pub(crate) async fn password_succeeded(&self, attempt: Attempt) {
        self.clear(attempt, false).await;
    }

    async fn clear(&self, attempt: Attempt, second_factor: bool) {
        let mut keys = vec![
            self.account_key(&attempt.account, "all"),
            self.account_key(&attempt.account, &format!("net:{}", attempt.network)),
        ];
        if second_factor {
            keys.push(self.account_key(&attempt.account, "second-factor"));
        }
        self.give_back(&self.network_key(&attempt.network)).await;
        let mut redis = self.redis.clone();
        let cleared: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await;
        if let Err(error) = cleared {
            tracing::warn!(error = %service_kit::Chain(&error), "sign-in throttle unavailable");
        }
    }

    async fn give_back(&self, key: &str) {
        let mut redis = self.redis.clone();
        let result: redis::RedisResult<i64> = redis::cmd("DECR").arg(key).query_async(&mut redis).await;
        if let Err(error) = result {
            tracing::warn!(error = %service_kit::Chain(&error), "sign-in throttle unavailable");
        }
    }

    async fn run(&self, keys: &[(String, u32)]) -> Result<(), Duration> {
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(self.policy.window.as_secs());
        for (key, limit) in keys {
            invocation.key(key).arg(*limit);
        }
        let mut redis = self.redis.clone();
        match invocation.invoke_async::<u64>(&mut redis).await {
            Ok(0) => Ok(()),
            Ok(retry_after) => Err(Duration::from_secs(retry_after)),
            Err(error) => {
                tracing::warn!(error = %service_kit::Chain(&error), "sign-in throttle unavailable; attempt not counted");
                Ok(())
            }
        }
    }
}
