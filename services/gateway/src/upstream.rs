//! Upstream instances with a circuit breaker each. Instances of a service are taken in turn;
//! one that fails `failures` times in a row (connect error or timeout) is ejected for
//! `open_for`, then lets one probe through (half-open) and is back on its success. When every
//! instance of a service is open, requests to it fail fast with 503.

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

impl Default for BreakerSettings {
    fn default() -> Self {
        Self { failures: 5, open_for: Duration::from_secs(10) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; everyone else waits for its outcome.
    HalfOpen,
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

    /// Whether a request may go to this instance now (an expired open breaker admits one probe).
    fn admit(&self, now: Instant) -> bool {
        let mut state = self.state.lock().expect("breaker");
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => false,
        }
    }

    fn gauge_value(&self) -> i64 {
        match *self.state.lock().expect("breaker") {
            State::Closed { .. } => 0,
            State::HalfOpen => 1,
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
            .find(|index| pool.instances[*index].admit(now))
            .map(|index| (index, &pool.instances[index]))
            .ok_or(Unavailable::CircuitOpen)
    }

    pub fn success(&self, service: &str, instance: &Instance) {
        let mut state = instance.state.lock().expect("breaker");
        if *state != (State::Closed { failures: 0 }) {
            if matches!(*state, State::HalfOpen) {
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
            State::Closed { .. } | State::HalfOpen | State::Open { .. } => {
                tracing::warn!(upstream = service, instance = %instance.base, "circuit open");
                State::Open { until: Instant::now() + self.settings.open_for }
            }
        };
        *state = next;
        drop(state);
        self.circuit.with_label_values(&[service, &instance.base]).set(instance.gauge_value());
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

    #[test]
    fn consecutive_failures_eject_an_instance_until_a_probe_succeeds() {
        let u = upstreams(&["a", "b"]);
        let a = &u.pools["product"].instances[0];
        u.failure("product", a, "connect");
        assert!(a.admit(Instant::now()), "one failure is not enough");
        u.failure("product", a, "connect");
        for _ in 0..4 {
            assert_eq!(u.pick("product", None).unwrap().1.base, "b", "a is ejected");
        }
        std::thread::sleep(Duration::from_millis(60));
        assert!(a.admit(Instant::now()), "half-open: one probe");
        assert!(!a.admit(Instant::now()), "only one probe at a time");
        u.success("product", a);
        assert!(a.admit(Instant::now()), "closed again");
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_again_and_all_open_is_circuit_open() {
        let u = upstreams(&["a"]);
        let a = &u.pools["product"].instances[0];
        u.failure("product", a, "timeout");
        u.failure("product", a, "timeout");
        assert_eq!(u.pick("product", None).err(), Some(Unavailable::CircuitOpen));
        std::thread::sleep(Duration::from_millis(60));
        assert!(u.pick("product", None).is_ok());
        u.failure("product", a, "timeout");
        assert_eq!(u.pick("product", None).err(), Some(Unavailable::CircuitOpen));
    }
}
