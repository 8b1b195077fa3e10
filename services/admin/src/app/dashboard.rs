//! The dashboard's figures.

use chrono::NaiveDate;
use internal_token::Subject;

use super::AppState;
use crate::domain::Summary;
use crate::error::Result;

/// The figures from `from` to `to`, read from analytics as `staff` (four reports at once).
#[tracing::instrument(skip_all, fields(%from, %to))]
pub(crate) async fn summary(state: &AppState, staff: &Subject, (from, to): (NaiveDate, NaiveDate)) -> Result<Summary> {
    let (revenue, funnel, customers, low_stock) = tokio::try_join!(
        state.analytics.revenue(staff, from, to),
        state.analytics.funnel(staff, from, to),
        state.analytics.customers(staff, from, to),
        state.analytics.low_stock(staff, 20),
    )?;
    Ok(Summary::from_reports((from, to), &revenue, &funnel, &customers, low_stock))
}
