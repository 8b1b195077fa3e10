//! The analytics service's reports as other services read them (caller: admin, composing the
//! dashboard): the rows of `GET /analytics/<report>` and a typed client that calls them with the
//! staff member's own identity, so analytics checks `analytics:read` for that person.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::fleet::ANALYTICS;
use service_kit::{FieldCode, FieldErrors, InternalClient};
use utoipa::ToSchema;

use crate::types::{Amount, Quantity, Sku};
use crate::{CallError, call_json};

/// The longest report.
pub const MAX_DAYS: i64 = 731;

/// How a report groups its days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    /// PostgreSQL's `date_trunc` unit.
    pub fn unit(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

/// The days a report covers (both included) and how it groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub granularity: Granularity,
}

impl Window {
    /// From the query: `from` and `to` as `YYYY-MM-DD` (default the 30 days up to `today`),
    /// `granularity` `day` (default), `week` (ISO, from Monday) or `month`.
    pub fn parse(query: &HashMap<String, String>, today: NaiveDate, errors: &mut FieldErrors) -> Option<Self> {
        let mut date = |name: &str, default: NaiveDate| match query.get(name) {
            None => Some(default),
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().or_else(|| {
                errors.push(name, FieldCode::InvalidValue, "a date as YYYY-MM-DD");
                None
            }),
        };
        let to = date("to", today);
        let from = date("from", to.unwrap_or(today) - Duration::days(29));
        let granularity = match query.get("granularity").map(String::as_str) {
            None | Some("day") => Some(Granularity::Day),
            Some("week") => Some(Granularity::Week),
            Some("month") => Some(Granularity::Month),
            Some(_) => {
                errors.push("granularity", FieldCode::InvalidValue, "day, week or month");
                None
            }
        };
        let (from, to, granularity) = (from?, to?, granularity?);
        if from > to {
            errors.push("from", FieldCode::OutOfRange, "from is on or before to");
            return None;
        }
        if (to - from).num_days() >= MAX_DAYS {
            errors.push("from", FieldCode::OutOfRange, format!("at most {MAX_DAYS} days"));
            return None;
        }
        Some(Self { from, to, granularity })
    }
}

/// Sales in one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevenueRow {
    /// The period's first day (a Monday for weeks, the 1st for months).
    pub period: NaiveDate,
    /// Paid orders.
    pub orders: i64,
    /// Their gross totals, minor units.
    pub revenue_minor: Amount,
    /// Revenue ÷ orders, rounded half up (0 without orders).
    pub average_order_minor: Amount,
    pub refunded_minor: Amount,
    /// Revenue less refunds.
    pub net_revenue_minor: Amount,
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
    pub sku: Sku,
    pub available_quantity: Quantity,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_defaults_to_thirty_days_and_refuses_reversed_or_huge_ranges() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let query = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut errors = FieldErrors::default();
        let window = Window::parse(&query(&[]), today, &mut errors).unwrap();
        assert_eq!((window.from, window.to), (NaiveDate::from_ymd_opt(2026, 10, 30).unwrap(), today));
        assert!(Window::parse(&query(&[("from", "2026-11-29"), ("to", "2026-11-28")]), today, &mut errors).is_none());
        assert!(Window::parse(&query(&[("from", "2020-01-01")]), today, &mut errors).is_none());
        assert!(Window::parse(&query(&[("granularity", "hour")]), today, &mut errors).is_none());
        assert!(Window::parse(&query(&[("to", "yesterday")]), today, &mut errors).is_none());
        let names: Vec<_> = errors.into_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(names, ["from", "from", "granularity", "to"]);
    }
}
