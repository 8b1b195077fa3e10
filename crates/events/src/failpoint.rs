//! Failpoints for tests: a test arms a named point in its own process and the code passing it
//! stops there (the task ends as if the process died).
//!
//! Always compiled, so the test build and the shipped binaries are one build (a cargo feature
//! made every service compile twice in `cargo xtask test`). Only code in the same process can arm
//! a point (there is no environment variable, flag or endpoint for it), and nothing outside
//! tests calls [`arm`] (a conformance tidy test checks that); while nothing is armed a check is
//! one relaxed atomic load, without allocating.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// Whether any point was ever armed in this process (the fast path's only read).
static ANY_ARMED: AtomicBool = AtomicBool::new(false);

fn points() -> &'static Mutex<HashMap<String, usize>> {
    static POINTS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    POINTS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn name(point: &str, scope: &str) -> String {
    format!("{point}:{scope}")
}

/// Arms `point` (scoped by a caller-chosen key, e.g. a Redis prefix) to fire `times` times.
/// For tests only.
pub fn arm(point: &str, scope: &str, times: usize) {
    points().lock().expect("failpoints").insert(name(point, scope), times);
    ANY_ARMED.store(true, Ordering::Release);
}

/// Whether `point` fires now for `scope` (consuming one firing).
pub fn fires(point: &str, scope: &str) -> bool {
    if !ANY_ARMED.load(Ordering::Acquire) {
        return false;
    }
    let mut points = points().lock().expect("failpoints");
    match points.get_mut(&name(point, scope)) {
        Some(left) if *left > 0 => {
            *left -= 1;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_point_fires_as_often_as_armed_and_only_in_its_scope() {
        assert!(!fires("unit.point", "a"));
        arm("unit.point", "a", 2);
        assert!(!fires("unit.point", "b"));
        assert!(fires("unit.point", "a"));
        assert!(fires("unit.point", "a"));
        assert!(!fires("unit.point", "a"));
    }
}
