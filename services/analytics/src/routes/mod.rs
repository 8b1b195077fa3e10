//! The analytics service's HTTP routes: the storefront's tracking endpoint (public, its own
//! rate class at the gateway) and the reports for staff holding `analytics:read`, each as JSON
//! or, with `Accept: text/csv`, as CSV.

use contracts::types::{Amount, Sku};
use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission, Problem, Query};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use contracts::analytics::{CustomersRow, FunnelRow, LowStockRow, RevenueRow};

use crate::config::AnalyticsConfig;
use crate::domain::{self, MAX_BATCH, TrackingEvent, Window};
use crate::error::Result;
use crate::store;

#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub settings: Arc<AnalyticsConfig>,
}

/// The routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(track))
        .routes(routes!(revenue))
        .routes(routes!(refunds))
        .routes(routes!(top_products))
        .routes(routes!(funnel))
        .routes(routes!(customers))
        .routes(routes!(low_stock))
}

/// The business routes, served behind the internal-token guard.
pub(crate) fn router(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI description of the service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// A batch of tracking events.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackingBatch {
    /// 1 to 50 events.
    events: Vec<TrackingEvent>,
}

/// What was kept.
#[derive(Serialize, ToSchema)]
pub(crate) struct Tracked {
    /// Events stored now.
    accepted: u64,
    /// Events already stored (the same events sent again: with the same `event_id`s, or
    /// without ids and the same content).
    duplicates: u64,
    /// Events over the visitor's or the network's daily quota: stored nowhere.
    dropped: u64,
}

/// `POST /analytics/events`.
#[utoipa::path(post, path = "/analytics/events", tag = "analytics", summary = "Report storefront events (tracking)",
    description = "Types `page_view` (needs `path`), `product_view` (`product_id`), `search` (`query`), `add_to_cart` \
        (`sku`), `checkout_started`. The visitor and session ids are the storefront's own anonymous ids; the shopper's \
        user id is taken from the access token when one is sent, never from the body. Every event is checked; one \
        invalid event refuses the batch with its index (`events[3].product_id`), so nothing is half-stored. An event \
        sent twice is kept once (by its `event_id`, or without one by its content). A path keeps no query string, \
        and nothing that looks like an email address is stored. Each visitor id and each client network (an IPv4 \
        address, an IPv6 /64) has a daily quota; events beyond it are answered as `dropped`, stored nowhere and \
        counted in no report.",
    request_body = TrackingBatch,
    responses(
        (status = 202, description = "Stored.", body = Tracked),
        (status = 400, description = "`malformed_json`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `events` (1 to 50) or `events[<i>].<field>`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: the tracking class's limit for this client.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn track(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(batch): Json<TrackingBatch>,
) -> Result<(StatusCode, Json<Tracked>)> {
    let now = state.settings.clock.now();
    let mut errors = FieldErrors::default();
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        errors.push("events", FieldCode::OutOfRange, format!("1 to {MAX_BATCH} events"));
    }
    for (index, event) in batch.events.iter().enumerate() {
        event.check(index, now, &mut errors);
    }
    errors.finish()?;
    let subject = caller.subject();
    let user_id = (!subject.is_anonymous()).then(|| subject.sub.clone());
    // The client's address as the gateway determined it (the internal token vouches for it).
    let network = headers
        .get(service_kit::headers::CLIENT_IP)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        .map(domain::network_of);
    let events: Vec<(Uuid, TrackingEvent)> = batch
        .events
        .into_iter()
        .map(|e| {
            let e = e.scrubbed();
            (e.event_id.unwrap_or_else(|| e.derived_id()), e)
        })
        .collect();
    let stored =
        crate::app::track(&state.pool, events, user_id.as_deref(), network.as_deref(), &state.settings.quota).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Tracked { accepted: stored.accepted, duplicates: stored.duplicates, dropped: stored.dropped }),
    ))
}

fn analyst(caller: &Caller) -> Result<()> {
    caller.require_perm(Permission::AnalyticsRead)?;
    Ok(())
}

/// Answers rows as JSON `{"items": [...]}`, or as CSV when the caller asks for `text/csv`.
fn report<T: Serialize>(headers: &HeaderMap, name: &str, items: Vec<T>) -> Result<Response> {
    let wants_csv = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(serde_json::json!({ "items": items })).into_response());
    }
    let csv = domain::to_csv(&items).map_err(|e| Problem::internal(&e))?;
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn window(state: &AppState, query: &HashMap<String, String>, errors: &mut FieldErrors) -> Option<Window> {
    Window::parse(query, state.settings.clock.now().date_naive(), errors)
}

/// The window of a report, once the caller is confirmed to hold `analytics:read`.
fn windowed(state: &AppState, caller: &Caller, query: &HashMap<String, String>) -> Result<Window> {
    analyst(caller)?;
    let mut errors = FieldErrors::default();
    let window = window(state, query, &mut errors);
    Ok(errors.finish_with(window)?)
}

/// The days a report covers and how it groups them (documentation of the query; the handlers
/// read it through [`Window::parse`], which names each bad field).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct WindowQuery {
    /// First day, YYYY-MM-DD (default 29 days before `to`).
    from: Option<String>,
    /// Last day, included (default today, UTC).
    to: Option<String>,
    /// `day` (default), `week` (from Monday) or `month`.
    granularity: Option<String>,
}

/// The report's rows.
#[derive(Serialize, ToSchema)]
pub(crate) struct RevenueReport {
    items: Vec<RevenueRow>,
}

/// `GET /analytics/revenue`.
#[utoipa::path(get, path = "/analytics/revenue", tag = "analytics", summary = "Revenue, orders and average order value per period",
    description = "Days are UTC days of the ORDER_PAID events; every period of the window is listed, empty ones as 0. \
        `Accept: text/csv` answers CSV.",
    params(WindowQuery),
    responses(
        (status = 200, description = "One row per period.", body = RevenueReport),
        (status = 403, description = "`forbidden`: needs `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to` or `granularity`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn revenue(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let window = windowed(&state, &caller, &query)?;
    let items: Vec<RevenueRow> = store::sales(&state.pool, &window)
        .await?
        .into_iter()
        .map(|s| RevenueRow {
            period: s.period,
            orders: s.orders,
            revenue_minor: Amount::new(s.revenue_minor),
            average_order_minor: Amount::new(if s.orders == 0 {
                0
            } else {
                (2 * s.revenue_minor + s.orders) / (2 * s.orders)
            }),
            refunded_minor: Amount::new(s.refunded_minor),
            net_revenue_minor: Amount::new(s.revenue_minor.saturating_sub(s.refunded_minor)),
            failed_payments: s.failed_payments,
        })
        .collect();
    report(&headers, "revenue", items)
}

/// Refunds in one period.
#[derive(Serialize, ToSchema)]
pub(crate) struct RefundsRow {
    period: NaiveDate,
    refunds: i64,
    refunded_minor: Amount,
}

/// The report's rows.
#[derive(Serialize, ToSchema)]
pub(crate) struct RefundsReport {
    items: Vec<RefundsRow>,
}

/// `GET /analytics/refunds`.
#[utoipa::path(get, path = "/analytics/refunds", tag = "analytics", summary = "Refunds per period",
    params(WindowQuery),
    responses(
        (status = 200, description = "One row per period (ORDER_REFUNDED).", body = RefundsReport),
        (status = 403, description = "`forbidden`: needs `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to` or `granularity`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn refunds(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let window = windowed(&state, &caller, &query)?;
    let items: Vec<RefundsRow> = store::sales(&state.pool, &window)
        .await?
        .into_iter()
        .map(|s| RefundsRow { period: s.period, refunds: s.refunds, refunded_minor: Amount::new(s.refunded_minor) })
        .collect();
    report(&headers, "refunds", items)
}

/// A best seller.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProductRow {
    sku: Sku,
    /// The product and variant as last ordered.
    title: String,
    units: i64,
    /// Units × unit price, gross, minor units.
    revenue_minor: Amount,
}

/// The report's rows.
#[derive(Serialize, ToSchema)]
pub(crate) struct TopProductsReport {
    items: Vec<ProductRow>,
}

/// `GET /analytics/top-products`.
#[utoipa::path(get, path = "/analytics/top-products", tag = "analytics", summary = "Best sellers by revenue or units",
    description = "Per variant (SKU), from paid orders' lines in the window.",
    params(
        WindowQuery,
        ("by" = Option<String>, Query, description = "`revenue` (default) or `units`."),
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)."),
    ),
    responses(
        (status = 200, description = "The best sellers, best first.", body = TopProductsReport),
        (status = 403, description = "`forbidden`: needs `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to`, `by` or `limit`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn top_products(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    analyst(&caller)?;
    let mut errors = FieldErrors::default();
    let window = window(&state, &query, &mut errors);
    let by_units = match query.get("by").map(String::as_str) {
        None | Some("revenue") => false,
        Some("units") => true,
        Some(_) => {
            errors.push("by", FieldCode::InvalidValue, "revenue or units");
            false
        }
    };
    let limit = match query.get("limit").map(|l| l.parse::<i64>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            errors.push("limit", FieldCode::OutOfRange, "1 to 100");
            10
        }
    };
    let window = errors.finish_with(window)?;
    let items: Vec<ProductRow> = store::top_products(&state.pool, window.from, window.to, by_units, limit)
        .await?
        .into_iter()
        .map(|p| ProductRow { sku: p.sku, title: p.title, units: p.units, revenue_minor: p.revenue_minor })
        .collect();
    report(&headers, "top-products", items)
}

/// The report's rows.
#[derive(Serialize, ToSchema)]
pub(crate) struct FunnelReport {
    items: Vec<FunnelRow>,
}

/// `GET /analytics/funnel`.
#[utoipa::path(get, path = "/analytics/funnel", tag = "analytics", summary = "The conversion funnel per period",
    description = "Distinct sessions that reached each step (from the tracking events), and the orders paid (from \
        ORDER_PAID), per period.",
    params(WindowQuery),
    responses(
        (status = 200, description = "One row per period.", body = FunnelReport),
        (status = 403, description = "`forbidden`: needs `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to` or `granularity`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn funnel(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let window = windowed(&state, &caller, &query)?;
    let items: Vec<FunnelRow> = store::funnel(&state.pool, &window)
        .await?
        .into_iter()
        .map(|f| FunnelRow {
            period: f.period,
            product_views: f.product_views,
            add_to_cart: f.add_to_cart,
            checkout_started: f.checkout_started,
            paid: f.paid,
        })
        .collect();
    report(&headers, "funnel", items)
}

/// The report's rows.
#[derive(Serialize, ToSchema)]
pub(crate) struct CustomersReport {
    items: Vec<CustomersRow>,
}

/// `GET /analytics/customers`.
#[utoipa::path(get, path = "/analytics/customers", tag = "analytics", summary = "New customers per period",
    params(WindowQuery),
    responses(
        (status = 200, description = "One row per period.", body = CustomersReport),
        (status = 403, description = "`forbidden`: needs `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to` or `granularity`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn customers(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let window = windowed(&state, &caller, &query)?;
    let items: Vec<CustomersRow> = store::customers(&state.pool, &window)
        .await?
        .into_iter()
        .map(|c| CustomersRow { period: c.period, new_customers: c.new_customers })
        .collect();
    report(&headers, "customers", items)
}

/// The report's rows.
#[derive(Serialize, ToSchema)]
pub(crate) struct LowStockReport {
    items: Vec<LowStockRow>,
}

/// `GET /analytics/low-stock`.
#[utoipa::path(get, path = "/analytics/low-stock", tag = "analytics", summary = "SKUs at or below their low-stock threshold",
    description = "From STOCK_LOW (which carries the threshold) and STOCK_CHANGED (the newest quantity), fewest first.",
    params(("limit" = Option<i64>, Query, description = "1 to 100 (default 50).")),
    responses(
        (status = 200, description = "The SKUs running low.", body = LowStockReport),
        (status = 403, description = "`forbidden`: needs `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn low_stock(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    analyst(&caller)?;
    let limit = match query.get("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            let mut errors = FieldErrors::default();
            errors.push("limit", FieldCode::OutOfRange, "1 to 100");
            return Err(errors.finish().unwrap_err().into());
        }
    };
    let items: Vec<LowStockRow> = store::low_stock(&state.pool, limit)
        .await?
        .into_iter()
        .map(|l| LowStockRow {
            sku: l.sku,
            available_quantity: l.available_quantity,
            threshold: l.threshold,
            reported_at: l.reported_at,
        })
        .collect();
    report(&headers, "low-stock", items)
}
