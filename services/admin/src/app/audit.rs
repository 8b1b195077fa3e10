//! Pages of the audit log.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AppState;
use crate::error::Result;
use crate::store::{self, Entry};

/// Which entries, and where the page starts.
pub(crate) struct Filter<'a> {
    pub target: Option<&'a str>,
    pub actor: Option<&'a str>,
    /// The last entry of the previous page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// A page of entries, newest first, and the cursor of the next page (none on the last).
#[tracing::instrument(skip_all, fields(target = filter.target, actor = filter.actor))]
pub(crate) async fn page(state: &AppState, filter: &Filter<'_>) -> Result<(Vec<Entry>, Option<String>)> {
    let limit = filter.limit;
    let mut rows = store::entries(&state.pool, filter.target, filter.actor, filter.after, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|e| contracts::listing::time_cursor(e.recorded_at, e.event_id))
    } else {
        None
    };
    Ok((rows, next_cursor))
}
