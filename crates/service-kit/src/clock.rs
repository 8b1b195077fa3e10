//! The time a service's rules read: the system clock, or in tests one that can be moved ahead,
//! so that time-dependent behaviour (key rotation, deadlines) is tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Now, as the service's rules see it. `Clock::default()` is the system clock.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// How far this clock is ahead of the system's, in milliseconds (`None`: the system clock).
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that runs with the system's but can be moved ahead (tests). Clones share it.
    pub fn adjustable() -> Self {
        Self { offset_ms: Some(Arc::new(AtomicI64::new(0))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.as_ref().map_or(0, |o| o.load(Ordering::SeqCst));
        Utc::now() + Duration::milliseconds(offset)
    }

    /// Moves an adjustable clock ahead; the system clock cannot be moved (a no-op, logged).
    pub fn advance(&self, by: std::time::Duration) {
        match &self.offset_ms {
            Some(offset) => {
                offset.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
            }
            None => tracing::warn!("the system clock cannot be moved"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_ahead_for_every_clone_and_the_system_clock_does_not() {
        let clock = Clock::adjustable();
        let shared = clock.clone();
        let before = clock.now();
        shared.advance(std::time::Duration::from_secs(3600));
        assert!(clock.now() - before >= Duration::seconds(3600));
        let system = Clock::system();
        system.advance(std::time::Duration::from_secs(3600));
        assert!(system.now() - Utc::now() < Duration::seconds(1));
    }
}
