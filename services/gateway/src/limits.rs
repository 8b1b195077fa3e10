//! Rate limits (GCRA) and the revocation check, in ONE Redis round trip per request: a Lua
//! script checks the access token's `jti` (and the user's logout-everywhere cutoff) and then
//! applies the generic cell rate algorithm to the caller's key.
//!
//! When Redis is unreachable (a command fails or times out), the gateway does not stall or
//! open the doors: for one second it stops asking Redis, an in-process GCRA with the same limits
//! takes over (per gateway instance, so a client may get up to N× the limit across N replicas),
//! and the revocation check fails closed on admin routes (503) and open elsewhere (a revoked
//! customer token may pass until Redis is back, at most until its expiry).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use service_kit::redis::Connection;

use crate::route_table::RateClass;

/// A rate: `burst` requests at once, refilled at `count` per `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}

impl Limit {
    pub const fn new(count: u32, period_secs: u64, burst: u32) -> Self {
        Self { count, period: Duration::from_secs(period_secs), burst }
    }

    /// Time between two requests at the sustained rate (ms, fractional).
    fn emission_ms(&self) -> f64 {
        self.period.as_secs_f64() * 1000.0 / f64::from(self.count.max(1))
    }

    /// Parses `count/period_secs/burst`, e.g. `20/60/10`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parts: Vec<&str> = raw.split('/').collect();
        let [count, period, burst] = parts.as_slice() else {
            return Err("expected count/period_secs/burst".into());
        };
        let parse = |v: &str| v.trim().parse::<u64>().map_err(|e| e.to_string());
        let (count, period, burst) = (parse(count)?, parse(period)?, parse(burst)?);
        if count == 0 || period == 0 || burst == 0 {
            return Err("count, period and burst must be positive".into());
        }
        Ok(Self { count: count as u32, period: Duration::from_secs(period), burst: burst as u32 })
    }
}

impl std::str::FromStr for Limit {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
}

/// The limits per class; anonymous callers are keyed by IP, signed-in ones by user.
#[derive(Clone, Debug)]
pub struct Limits {
    pub credentials: Limit,
    pub read: Limit,
    pub write: Limit,
    pub webhook: Limit,
    pub tracking: Limit,
    pub admin: Limit,
}

impl Limits {
    pub fn of(&self, class: RateClass) -> Limit {
        match class {
            RateClass::Credentials => self.credentials,
            RateClass::Read => self.read,
            RateClass::Write => self.write,
            RateClass::Webhook => self.webhook,
            RateClass::Tracking => self.tracking,
            RateClass::Admin => self.admin,
        }
    }
}

/// What the limiter decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When a refused request may be retried.
    pub retry_after: Duration,
    /// When the bucket is full again.
    pub reset: Duration,
}

/// GCRA: given the stored theoretical arrival time (`tat`, ms) and `now`, the decision and the
/// new tat to store (when allowed). The Lua script below does the same arithmetic.
pub fn gcra(tat: Option<f64>, now: f64, limit: Limit) -> (Decision, Option<f64>) {
    let emission = limit.emission_ms();
    let tolerance = emission * f64::from(limit.burst);
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + emission;
    let allow_at = new_tat - tolerance;
    let ms = |v: f64| Duration::from_micros((v.max(0.0) * 1000.0) as u64);
    if allow_at > now {
        let decision = Decision {
            allowed: false,
            limit: limit.burst,
            remaining: 0,
            retry_after: ms(allow_at - now),
            reset: ms(tat - now),
        };
        return (decision, None);
    }
    let remaining = ((tolerance - (new_tat - now)) / emission).floor().max(0.0) as u32;
    let decision = Decision {
        allowed: true,
        limit: limit.burst,
        remaining,
        retry_after: Duration::ZERO,
        reset: ms(new_tat - now),
    };
    (decision, Some(new_tat))
}

/// Checks revocation (for a token) and applies the limit, atomically in Redis.
/// KEYS: the rate key (written). ARGV: emission ms, tolerance ms, the token's issue time in ms
/// (-1: no token), then the revoked-jti, user-cutoff and revoked-session keys, which the script
/// only reads: passed as arguments, since Redis's ACL asks read and write permission for every
/// declared key, and the gateway may only read the revocation list (its ACL user). They share
/// the rate key's hash tag, so on a Redis Cluster they live in its slot.
/// A token issued at or before the user's cutoff (ms), or of a revoked session, is revoked.
/// Returns {revoked, allowed, remaining, retry_after_ms, reset_ms}.
const SCRIPT: &str = r#"
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local issued_ms = tonumber(ARGV[3])
if issued_ms >= 0 then
  if redis.call('EXISTS', ARGV[4]) == 1 or redis.call('EXISTS', ARGV[6]) == 1 then return {1, 0, 0, 0, 0} end
  local cutoff = redis.call('GET', ARGV[5])
  if cutoff and issued_ms <= tonumber(cutoff) then return {1, 0, 0, 0, 0} end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, 0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
return {0, 1, math.floor((tolerance - (new_tat - now)) / emission), 0, math.ceil(new_tat - now)}
"#;

/// The verdict on one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    Revoked,
    /// Redis is down and this route fails closed on revocation.
    RevocationUnknown,
    Limited(Decision),
    Allowed(Decision),
}

/// A signed-in caller's token, for the revocation check.
pub struct TokenRef<'a> {
    pub jti: &'a str,
    pub sub: &'a str,
    /// When the token was issued, in milliseconds.
    pub issued_ms: u64,
    /// Its session (refresh family), if it has one.
    pub sid: Option<&'a str>,
}

pub struct Gate {
    redis: Option<Connection>,
    script: redis::Script,
    prefix: String,
    limits: Limits,
    local: Mutex<HashMap<String, f64>>,
    /// Unix ms until which Redis is not asked (it just failed).
    redis_down_until: AtomicU64,
    pub fallbacks: prometheus::IntCounter,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Gate {
    pub fn new(redis: Option<Connection>, prefix: String, limits: Limits, metrics: &observability::Metrics) -> Self {
        let fallbacks = prometheus::IntCounter::new(
            "gateway_redis_fallback_total",
            "Requests decided without Redis (local limiter; revocation fail-open or fail-closed).",
        )
        .expect("valid metric");
        metrics.register(Box::new(fallbacks.clone())).expect("registered once");
        Self {
            redis,
            script: redis::Script::new(SCRIPT),
            prefix,
            limits,
            local: Mutex::new(HashMap::new()),
            redis_down_until: AtomicU64::new(0),
            fallbacks,
        }
    }

    /// One round trip: revocation (if `token`) and the limit of `class` for `key`.
    pub async fn check(&self, class: RateClass, key: &str, token: Option<TokenRef<'_>>, fail_closed: bool) -> Verdict {
        let limit = self.limits.of(class);
        // Every key the script touches carries one hash tag (a Redis Cluster runs a script in one
        // slot): a signed-in caller's is the user's, the revocations' own; an anonymous caller's
        // is its rate key's.
        let prefix = &self.prefix;
        let rate_key = match &token {
            Some(t) => {
                format!("{prefix}rl:{}:{}:{key}", class_name(class), auth_jwt::revocation::user_tag(prefix, t.sub))
            }
            None => format!("{prefix}rl:{}:{{{prefix}{key}}}", class_name(class)),
        };
        if let Some(redis) = &self.redis
            && now_ms() >= self.redis_down_until.load(Ordering::Relaxed)
        {
            let (jti_key, user_key, session_key, iat) = match &token {
                Some(t) => {
                    let jti_key = auth_jwt::revocation::token_key(prefix, t.sub, t.jti);
                    let session_key = match t.sid {
                        Some(sid) => auth_jwt::revocation::session_key(prefix, t.sub, sid),
                        None => jti_key.clone(),
                    };
                    (jti_key, auth_jwt::revocation::user_key(prefix, t.sub), session_key, t.issued_ms as i64)
                }
                None => (rate_key.clone(), rate_key.clone(), rate_key.clone(), -1),
            };
            let emission = limit.emission_ms();
            let mut redis = redis.clone();
            let result: redis::RedisResult<(i64, i64, i64, i64, i64)> = self
                .script
                .key(&rate_key)
                .arg(emission)
                .arg(emission * f64::from(limit.burst))
                .arg(iat)
                .arg(&jti_key)
                .arg(&user_key)
                .arg(&session_key)
                .invoke_async(&mut redis)
                .await;
            match result {
                Ok((1, ..)) => return Verdict::Revoked,
                Ok((_, allowed, remaining, retry_ms, reset_ms)) => {
                    let decision = Decision {
                        allowed: allowed == 1,
                        limit: limit.burst,
                        remaining: remaining.max(0) as u32,
                        retry_after: Duration::from_millis(retry_ms.max(0) as u64),
                        reset: Duration::from_millis(reset_ms.max(0) as u64),
                    };
                    return if decision.allowed { Verdict::Allowed(decision) } else { Verdict::Limited(decision) };
                }
                Err(error) => {
                    tracing::warn!(error = %service_kit::Chain(&error), "Redis unavailable: local limiter for the next second");
                    self.redis_down_until.store(now_ms() + 1_000, Ordering::Relaxed);
                }
            }
        }
        self.fallbacks.inc();
        if token.is_some() && fail_closed {
            return Verdict::RevocationUnknown;
        }
        let decision = self.local_check(&rate_key, limit);
        if decision.allowed { Verdict::Allowed(decision) } else { Verdict::Limited(decision) }
    }

    fn local_check(&self, key: &str, limit: Limit) -> Decision {
        let now = now_ms() as f64;
        let mut buckets = self.local.lock().expect("local limiter");
        internal_token::bounded::sweep(&mut buckets, 100_000, |_, tat| *tat > now);
        let (decision, new_tat) = gcra(buckets.get(key).copied(), now, limit);
        if let Some(tat) = new_tat {
            buckets.insert(key.to_owned(), tat);
        }
        decision
    }
}

fn class_name(class: RateClass) -> &'static str {
    match class {
        RateClass::Credentials => "credentials",
        RateClass::Read => "read",
        RateClass::Write => "write",
        RateClass::Webhook => "webhook",
        RateClass::Tracking => "tracking",
        RateClass::Admin => "admin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_PER_SECOND_BURST_3: Limit = Limit::new(5, 1, 3);

    fn run(times: &[f64], limit: Limit) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|&now| {
                let (decision, new_tat) = gcra(tat, now, limit);
                if new_tat.is_some() {
                    tat = new_tat;
                }
                decision.allowed
            })
            .collect()
    }

    #[test]
    fn a_burst_passes_then_requests_are_spaced_by_the_emission_interval() {
        // 5/s = one every 200 ms, 3 at once.
        let table: &[(&[f64], &[bool])] = &[
            (&[0.0, 0.0, 0.0, 0.0], &[true, true, true, false]),
            (&[0.0, 0.0, 0.0, 199.0, 200.0], &[true, true, true, false, true]),
            (&[0.0, 1000.0, 1000.0, 1000.0, 1000.0], &[true, true, true, true, false]),
            // Twice the sustained rate: the burst absorbs the excess for a while, then it shows.
            (&[0.0, 100.0, 200.0, 300.0, 400.0, 500.0], &[true, true, true, true, true, false]),
        ];
        for (times, expected) in table {
            assert_eq!(run(times, FIVE_PER_SECOND_BURST_3), *expected, "{times:?}");
        }
    }

    #[test]
    fn remaining_counts_down_and_a_refusal_says_when_to_retry() {
        let (first, tat) = gcra(None, 0.0, FIVE_PER_SECOND_BURST_3);
        assert_eq!((first.allowed, first.remaining, first.limit), (true, 2, 3));
        let (second, tat) = gcra(tat, 0.0, FIVE_PER_SECOND_BURST_3);
        assert_eq!(second.remaining, 1);
        let (third, tat) = gcra(tat, 0.0, FIVE_PER_SECOND_BURST_3);
        assert_eq!(third.remaining, 0);
        let (refused, none) = gcra(tat, 50.0, FIVE_PER_SECOND_BURST_3);
        assert!(!refused.allowed && none.is_none());
        assert_eq!(refused.retry_after, Duration::from_millis(150));
        assert_eq!(refused.reset, Duration::from_millis(550));
    }

    #[test]
    fn limits_parse_from_configuration() {
        assert_eq!(Limit::parse("20/60/10").unwrap(), Limit::new(20, 60, 10));
        assert!(Limit::parse("20/60").is_err());
        assert!(Limit::parse("0/1/1").is_err());
    }
}
