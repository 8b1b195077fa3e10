//! The analytics service's reports as other services read them (caller: admin, composing the
//! dashboard): the rows of `GET /analytics/<report>` and a typed client that calls them with the
//! staff member's own identity, so analytics checks `analytics:read` for that person.

use chrono::{DateTime, NaiveDate, Utc};
use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::ANALYTICS;
use utoipa::ToSchema;

use crate::{CallError, call_json};

/// Sales in one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevenueRow {
    /// The period's first day (a Monday for weeks, the 1st for months).
    pub period: NaiveDate,
    /// Paid orders.
    pub orders: i64,
    /// Their gross totals, minor units.
    pub revenue_minor: i64,
    /// Revenue ÷ orders, rounded half up (0 without orders).
    pub average_order_minor: i64,
    pub refunded_minor: i64,
    /// Revenue less refunds.
    pub net_revenue_minor: i64,
    pub failed_payments: i64,
}

/// The conversion funnel in one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FunnelRow {
    pub period: NaiveDate,
    /// Sessions that viewed a product.
    pub product_views: i64,
    /// Sessions that added to a cart.
    pub add_to_cart: i64,
    /// Sessions that started a checkout.
    pub checkout_started: i64,
    /// Orders paid.
    pub paid: i64,
}

/// New customers in one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CustomersRow {
    pub period: NaiveDate,
    /// Accounts registered (USER_REGISTERED).
    pub new_customers: i64,
}

/// A SKU at or below its low-stock threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LowStockRow {
    pub sku: String,
    pub available_quantity: i64,
    pub threshold: i64,
    pub reported_at: DateTime<Utc>,
}

/// A report's rows.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Report<T> {
    pub items: Vec<T>,
}

/// Reads analytics' reports on behalf of a staff member.
#[derive(Clone)]
pub struct AnalyticsClient {
    client: InternalClient,
}

impl AnalyticsClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    async fn rows<T: serde::de::DeserializeOwned>(&self, staff: &Subject, path: &str) -> Result<Vec<T>, CallError> {
        let request = self.client.request(Method::GET, ANALYTICS, path, staff);
        Ok(call_json::<Report<T>>(ANALYTICS, request).await?.items)
    }

    /// Revenue per day from `from` to `to` (both included).
    pub async fn revenue(&self, staff: &Subject, from: NaiveDate, to: NaiveDate) -> Result<Vec<RevenueRow>, CallError> {
        self.rows(staff, &format!("/analytics/revenue?from={from}&to={to}")).await
    }

    pub async fn funnel(&self, staff: &Subject, from: NaiveDate, to: NaiveDate) -> Result<Vec<FunnelRow>, CallError> {
        self.rows(staff, &format!("/analytics/funnel?from={from}&to={to}")).await
    }

    pub async fn customers(
        &self,
        staff: &Subject,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CustomersRow>, CallError> {
        self.rows(staff, &format!("/analytics/customers?from={from}&to={to}")).await
    }

    /// The SKUs running lowest, at most `limit`.
    pub async fn low_stock(&self, staff: &Subject, limit: u32) -> Result<Vec<LowStockRow>, CallError> {
        self.rows(staff, &format!("/analytics/low-stock?limit={limit}")).await
    }
}
