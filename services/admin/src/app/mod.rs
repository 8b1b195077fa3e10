//! The admin service's use cases, between the routes (HTTP: permissions, query text, the
//! answer's shape) and its owners: the dashboard's figures from analytics' reports, the audit
//! log's pages from the store, and the back office's customers and orders from auth, order and
//! payment, each read with the staff member's own identity. Nothing here opens a transaction:
//! the audit log is written only by its consumer.

pub(crate) mod audit;
pub(crate) mod back_office;
pub(crate) mod dashboard;

use std::sync::Arc;

use contracts::analytics::AnalyticsClient;

use crate::config::AdminConfig;

/// What every admin use case reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub analytics: AnalyticsClient,
    pub auth: contracts::auth::AuthClient,
    pub orders: contracts::order::OrderClient,
    pub payments: contracts::payment::PaymentClient,
    pub pool: sqlx::PgPool,
    pub settings: Arc<AdminConfig>,
}
