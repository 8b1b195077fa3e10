//! Waiting for evidence instead of for time: poll a check until it holds, and fail the test
//! with what was awaited when it does not hold within a generous bound (2 busy cores).

use std::time::Duration;

/// How long any evidence may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Polls `check` every 50 ms until it holds; panics naming `what` after [`PATIENCE`].
pub async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {PATIENCE:?}");
}
