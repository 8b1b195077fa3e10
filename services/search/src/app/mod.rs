//! The search service's use cases, between the routes (HTTP: the query string, the answer's
//! shape) and the index (`store`): a faceted search and the completions of what a shopper types,
//! each on the blocking pool under a permit of its lane, against this replica's own index.

pub(crate) mod queries;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use service_kit::{Code, Problem};

use crate::error::{ApiError, Result};
use crate::store::SearchIndex;

/// What every search use case reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub index: Arc<SearchIndex>,
    /// Set once the index is built (or found built).
    pub ready: Arc<AtomicBool>,
    /// The query work running at once, per lane (`SEARCH_CONCURRENCY` each): every search and
    /// suggestion runs on the blocking pool holding a permit of its lane, so a flood of heavy
    /// queries waits here instead of taking the runtime's threads from `/health`, and never
    /// queues the light ones (see [`Lane`]) behind it.
    pub heavy: Arc<tokio::sync::Semaphore>,
    pub light: Arc<tokio::sync::Semaphore>,
}

/// Which permits a query waits for: a query of at most two words asking for at most 24 hits
/// (what a storefront's search box and suggestions send) is light; longer queries and bigger
/// pages, whose fuzzy expansion and highlighting cost grows with both, are heavy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    Light,
    Heavy,
}

impl Lane {
    fn of(words: usize, limit: usize) -> Self {
        if words <= 2 && limit <= 24 { Lane::Light } else { Lane::Heavy }
    }
}

/// How long a query waits for a permit before it is turned away (503 `busy`).
const PERMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl AppState {
    /// Runs `job` on the blocking pool once a permit of its lane is free.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let permits = match lane {
            Lane::Light => &self.light,
            Lane::Heavy => &self.heavy,
        };
        let permit = tokio::time::timeout(PERMIT_WAIT, Arc::clone(permits).acquire_owned())
            .await
            .map_err(|_| Problem::new(Code::Busy, "search is at capacity; retry shortly").with_retry_after(1))?
            .map_err(|e| Problem::internal(&e))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| ApiError::Problem(Problem::internal(&e)))
    }

    pub(crate) fn index(&self) -> Result<Arc<SearchIndex>> {
        if self.ready.load(Ordering::Acquire) {
            Ok(self.index.clone())
        } else {
            Err(Problem::new(Code::NotReady, "the search index is still being built; retry shortly").into())
        }
    }
}
