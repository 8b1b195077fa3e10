//! Upstream instances with a circuit breaker each. Instances of a service are taken in turn;
//! one that fails `failures` times in a row (connect error or timeout) is ejected for
//! `open_for`, then lets one probe through (half-open) and is back on its success. Every probe
//! reports its outcome (the relay holds a [`Probe`] guard, so a cancelled probe counts as a
//! failure), and a half-open breaker whose probe never reported admits another after `open_for`
//! (review M9). When every instance of a service is open, requests to it fail fast with 503.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prometheus::{IntCounterVec, IntGaugeVec, Opts};

#[derive(Clone, Copy, Debug)]
pub struct BreakerSettings {
    /// Consecutive failures that open the breaker.
    pub failures: u32,
    /// How long an open breaker refuses before letting a probe through.
    pub open_for: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out since then; everyone else waits for its outcome, at most `open_for`.
    HalfOpen {
        since: Instant,
    },
}

/// One instance of a service.
pub struct Instance {
    pub base: String,
    state: Mutex<State>,
}

impl Instance {
    fn new(base: String) -> Self {
        Self { base, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// Whether a request may go to this instance now (an expired open breaker, or a half-open
    /// one whose probe is overdue, admits one probe).
    fn admit(&self, now: Instant, open_for: Duration) -> bool {
        let mut state = self.state.lock().expect("breaker");
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { since: now };
                true
            }
            State::HalfOpen { since } if now >= since + open_for => {
                *state = State::HalfOpen { since: now };
                true
            }
            State::Open { .. } | State::HalfOpen { .. } => false,
        }
    }

    fn is_half_open(&self) -> bool {
        matches!(*self.state.lock().expect("breaker"), State::HalfOpen { .. })
    }

    fn gauge_value(&self) -> i64 {
        match *self.state.lock().expect("breaker") {
            State::Closed { .. } => 0,
            State::HalfOpen { .. } => 1,
            State::Open { .. } => 2,
        }
    }
}

struct Pool {
    instances: Vec<Instance>,
    next: AtomicUsize,
}

pub struct Upstreams {
    pools: HashMap<String, Pool>,
    settings: BreakerSettings,
    circuit: IntGaugeVec,
    failures: IntCounterVec,
}

/// Why no instance could be picked.
#[derive(Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// The service has no configured instance.
    NotConfigured,
    /// Every instance's breaker is open.
    CircuitOpen,
}

impl Upstreams {
    pub fn new(urls: &[(String, Vec<String>)], settings: BreakerSettings, metrics: &observability::Metrics) -> Self {
        let circuit = IntGaugeVec::new(
            Opts::new("gateway_circuit_state", "Circuit breaker per upstream instance: 0 closed, 1 half-open, 2 open."),
            &["upstream", "instance"],
        )
        .expect("valid metric");
        let failures = IntCounterVec::new(
            Opts::new("gateway_upstream_failures_total", "Connect errors and timeouts per upstream."),
            &["upstream", "kind"],
        )
        .expect("valid metric");
        metrics.register(Box::new(circuit.clone())).expect("registered once");
        metrics.register(Box::new(failures.clone())).expect("registered once");
        let pools = urls
            .iter()
            .map(|(name, urls)| {
                let instances = urls.iter().map(|u| Instance::new(u.clone())).collect();
                (name.clone(), Pool { instances, next: AtomicUsize::new(0) })
            })
            .collect();
        let upstreams = Self { pools, settings, circuit, failures };
        for (name, pool) in &upstreams.pools {
            for instance in &pool.instances {
                upstreams.circuit.with_label_values(&[name, &instance.base]).set(0);
            }
        }
        upstreams
    }

    /// The next instance of `service` that admits a request, round robin, skipping `except`.
    pub fn pick(&self, service: &str, except: Option<usize>) -> Result<(usize, &Instance), Unavailable> {
        let pool = self.pools.get(service).filter(|p| !p.instances.is_empty()).ok_or(Unavailable::NotConfigured)?;
        let now = Instant::now();
        let start = pool.next.fetch_add(1, Ordering::Relaxed);
        let n = pool.instances.len();
        (0..n)
            .map(|offset| (start + offset) % n)
            .filter(|index| Some(*index) != except)
            .find(|index| pool.instances[*index].admit(now, self.settings.open_for))
            .map(|index| (index, &pool.instances[index]))
            .ok_or(Unavailable::CircuitOpen)
    }

    pub fn success(&self, service: &str, instance: &Instance) {
        let mut state = instance.state.lock().expect("breaker");
        if *state != (State::Closed { failures: 0 }) {
            if matches!(*state, State::HalfOpen { .. }) {
                tracing::info!(upstream = service, instance = %instance.base, "circuit closed again");
            }
            *state = State::Closed { failures: 0 };
            drop(state);
            self.circuit.with_label_values(&[service, &instance.base]).set(instance.gauge_value());
        }
    }

    pub fn failure(&self, service: &str, instance: &Instance, kind: &str) {
        self.failures.with_label_values(&[service, kind]).inc();
        let mut state = instance.state.lock().expect("breaker");
        let next = match *state {
            State::Closed { failures } if failures + 1 < self.settings.failures => {
                State::Closed { failures: failures + 1 }
            }
            State::Closed { .. } | State::HalfOpen { .. } | State::Open { .. } => {
                tracing::warn!(upstream = service, instance = %instance.base, "circuit open");
                State::Open { until: Instant::now() + self.settings.open_for }
            }
        };
        *state = next;
        drop(state);
        self.circuit.with_label_values(&[service, &instance.base]).set(instance.gauge_value());
    }

    /// The request says nothing about the instance (the client's body was too large): a probe
    /// hands its turn to the next request; a closed breaker stays as it is.
    pub fn release(&self, instance: &Instance) {
        let mut state = instance.state.lock().expect("breaker");
        if matches!(*state, State::HalfOpen { .. }) {
            *state = State::Open { until: Instant::now() };
        }
    }
}

/// Reports the outcome of one request to an instance; dropped without a report (the request
/// was cancelled), a probe counts as failed so the breaker never waits on it forever.
pub struct Probe<'a> {
    upstreams: &'a Upstreams,
    service: &'a str,
    instance: &'a Instance,
    reported: bool,
}

impl<'a> Probe<'a> {
    pub fn new(upstreams: &'a Upstreams, service: &'a str, instance: &'a Instance) -> Self {
        Self { upstreams, service, instance, reported: false }
    }

    pub fn success(mut self) {
        self.reported = true;
        self.upstreams.success(self.service, self.instance);
    }

    pub fn failure(mut self, kind: &str) {
        self.reported = true;
        self.upstreams.failure(self.service, self.instance, kind);
    }

    pub fn release(mut self) {
        self.reported = true;
        self.upstreams.release(self.instance);
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        if !self.reported && self.instance.is_half_open() {
            self.upstreams.failure(self.service, self.instance, "cancelled");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstreams(urls: &[&str]) -> Upstreams {
        let settings = BreakerSettings { failures: 2, open_for: Duration::from_millis(50) };
        let urls = vec![("product".to_owned(), urls.iter().map(|u| (*u).to_owned()).collect())];
        Upstreams::new(&urls, settings, &observability::Metrics::new("t"))
    }

    #[test]
    fn instances_are_taken_in_turn() {
        let u = upstreams(&["a", "b", "c"]);
        let picked: Vec<String> = (0..6).map(|_| u.pick("product", None).unwrap().1.base.clone()).collect();
        assert_eq!(picked, ["a", "b", "c", "a", "b", "c"]);
        assert_eq!(u.pick("cart", None).err(), Some(Unavailable::NotConfigured));
    }

    const OPEN_FOR: Duration = Duration::from_millis(50);

    fn later() -> Instant {
        Instant::now() + OPEN_FOR + Duration::from_millis(10)
    }

    #[test]
    fn consecutive_failures_eject_an_instance_until_a_probe_succeeds() {
        let u = upstreams(&["a", "b"]);
        let a = &u.pools["product"].instances[0];
        u.failure("product", a, "connect");
        assert!(a.admit(Instant::now(), OPEN_FOR), "one failure is not enough");
        u.failure("product", a, "connect");
        for _ in 0..4 {
            assert_eq!(u.pick("product", None).unwrap().1.base, "b", "a is ejected");
        }
        let then = later();
        assert!(a.admit(then, OPEN_FOR), "half-open: one probe");
        assert!(!a.admit(then, OPEN_FOR), "only one probe at a time");
        u.success("product", a);
        assert!(a.admit(Instant::now(), OPEN_FOR), "closed again");
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_again_and_all_open_is_circuit_open() {
        let u = upstreams(&["a"]);
        let a = &u.pools["product"].instances[0];
        u.failure("product", a, "timeout");
        u.failure("product", a, "timeout");
        assert_eq!(u.pick("product", None).err(), Some(Unavailable::CircuitOpen));
        assert!(a.admit(later(), OPEN_FOR), "the probe");
        u.failure("product", a, "timeout");
        assert_eq!(u.pick("product", None).err(), Some(Unavailable::CircuitOpen));
    }

    fn opened(u: &Upstreams) -> &Instance {
        let a = &u.pools["product"].instances[0];
        u.failure("product", a, "connect");
        u.failure("product", a, "connect");
        a
    }

    #[test]
    fn a_probe_that_never_reports_is_replaced_after_the_deadline() {
        // Review M9: a half-open breaker waited forever for a probe that ended without a word.
        let u = upstreams(&["a"]);
        let a = opened(&u);
        let probe_at = later();
        assert!(a.admit(probe_at, OPEN_FOR));
        assert!(!a.admit(probe_at + OPEN_FOR / 2, OPEN_FOR), "the probe is still due");
        assert!(a.admit(probe_at + OPEN_FOR, OPEN_FOR), "overdue: another probe");
    }

    #[test]
    fn a_cancelled_probe_counts_as_failed_and_a_released_one_hands_over_at_once() {
        let u = upstreams(&["a"]);
        let a = opened(&u);
        assert!(a.admit(later(), OPEN_FOR));
        drop(Probe::new(&u, "product", a));
        assert_eq!(a.gauge_value(), 2, "the dropped probe opened the breaker again");
        assert!(a.admit(later(), OPEN_FOR));
        Probe::new(&u, "product", a).release();
        assert!(a.admit(Instant::now(), OPEN_FOR), "a released probe's turn goes to the next request");
        Probe::new(&u, "product", a).success();
        drop(Probe::new(&u, "product", a));
        assert_eq!(a.gauge_value(), 0, "a dropped request on a closed breaker changes nothing");
    }
}
