//! Test-only failpoints: with the `failpoints` feature, a test arms a named point and the code
//! passing it stops there (the task ends as if the process died). Without the feature every
//! check compiles to nothing.

#[cfg(feature = "failpoints")]
mod armed {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    fn points() -> &'static Mutex<HashMap<String, usize>> {
        static POINTS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
        POINTS.get_or_init(|| Mutex::new(HashMap::new()))
    }

    /// Arms `name` (scoped by a caller-chosen key, e.g. a Redis prefix) to fire `times` times.
    pub fn arm(name: &str, times: usize) {
        points().lock().expect("failpoints").insert(name.to_owned(), times);
    }

    /// Whether `name` fires now (consuming one firing).
    pub fn fires(name: &str) -> bool {
        let mut points = points().lock().expect("failpoints");
        match points.get_mut(name) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(feature = "failpoints")]
pub use armed::{arm, fires};

/// Without the feature nothing ever fires.
#[cfg(not(feature = "failpoints"))]
pub fn fires(_name: &str) -> bool {
    false
}
