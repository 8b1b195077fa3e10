//! The admin service's HTTP routes (every one behind `admin:access` and its own permission at
//! the gateway, and again here): the dashboard's figures as JSON and as a page with charts,
//! composed from analytics' reports read with the staff member's own identity; the audit log;
//! staff, customers and orders (in `back_office`).

mod back_office;

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use contracts::analytics::Window;
use internal_token::Caller;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldErrors, Json, Permission, Query};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::{audit, dashboard};
use crate::domain::{self, Summary};
use crate::error::Result;

pub(crate) use crate::app::AppState;

/// The routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard_summary))
        .routes(routes!(dashboard_page))
        .routes(routes!(audit_log))
        .routes(routes!(back_office::invite_staff, back_office::list_staff))
        .routes(routes!(back_office::find_customer))
        .routes(routes!(back_office::get_customer))
        .routes(routes!(back_office::customer_orders))
        .routes(routes!(back_office::disable_customer))
        .routes(routes!(back_office::enable_customer))
        .routes(routes!(back_office::order))
}

/// The business routes, served behind the internal-token guard.
pub(crate) fn router(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI description of the service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// `from` and `to` (`YYYY-MM-DD`, both included; default the 30 days up to today), read as
/// analytics reads its reports' windows.
fn window(query: &HashMap<String, String>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate)> {
    let mut errors = FieldErrors::default();
    let window = Window::parse(query, today, &mut errors);
    let window = errors.finish_with(window)?;
    Ok((window.from, window.to))
}

/// The figures, read from analytics as the staff member (who needs `admin:access` here, and
/// `analytics:read` there).
async fn summary(state: &AppState, caller: &Caller, window: (NaiveDate, NaiveDate)) -> Result<Summary> {
    caller.require_perm(Permission::AdminAccess)?;
    dashboard::summary(state, caller.subject(), window).await
}

/// `GET /admin/dashboard/summary`.
#[utoipa::path(get, path = "/admin/dashboard/summary", tag = "admin", summary = "The dashboard's key figures",
    description = "Revenue, orders, average order value, refunds, new customers, the funnel, revenue and orders per \
        day, and the SKUs running lowest, for a window of days (UTC). Read from analytics with your own identity: \
        your role needs `analytics:read` as well as `admin:access`.",
    params(
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (default 29 days before `to`)."),
        ("to" = Option<String>, Query, description = "Last day, included (default today)."),
    ),
    responses(
        (status = 200, description = "The figures.", body = Summary),
        (status = 403, description = "`forbidden`: needs `admin:access` and `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from` or `to`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: analytics is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn dashboard_summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Summary>> {
    let window = window(&query, state.settings.clock.now().date_naive())?;
    Ok(Json(summary(&state, &caller, window).await?))
}

/// `GET /admin/dashboard`.
#[utoipa::path(get, path = "/admin/dashboard", tag = "admin", summary = "The dashboard as a page with charts (HTML)",
    description = "The last 30 days (or `from`/`to`): the key figures, revenue and orders per day and the funnel as \
        inline SVG charts, and the low-stock list. No script, no stylesheet, nothing loaded from elsewhere; NGINX \
        sends it a Content-Security-Policy that allows exactly that. Needs a bearer token like every staff route.",
    params(
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD."),
        ("to" = Option<String>, Query, description = "Last day, included."),
    ),
    responses(
        (status = 200, description = "The page (`text/html`).", content_type = "text/html", body = String),
        (status = 403, description = "`forbidden`: needs `admin:access` and `analytics:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from` or `to`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: analytics is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn dashboard_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let window = window(&query, state.settings.clock.now().date_naive())?;
    let summary = summary(&state, &caller, window).await?;
    let mut response = domain::render_page(&summary, state.settings.currency).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

/// One staff write as the audit log keeps it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AuditEntry {
    event_id: uuid::Uuid,
    recorded_at: chrono::DateTime<chrono::Utc>,
    /// The service that took the write.
    producer: String,
    /// The staff member's user id.
    actor: String,
    /// `<domain>.<verb>`, e.g. `page.publish`.
    action: String,
    /// `<kind>:<id>`, e.g. `page:about`.
    target: String,
    /// The thing before the write (none when it was created).
    before: Option<serde_json::Value>,
    /// The thing after it (none when it was deleted).
    after: Option<serde_json::Value>,
    request_id: Option<String>,
}

/// A page of the audit log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AuditPage {
    items: Vec<AuditEntry>,
    /// Pass as `cursor` for older entries; none on the last page.
    next_cursor: Option<String>,
}

/// `GET /admin/audit-log`.
#[utoipa::path(get, path = "/admin/audit-log", tag = "admin", summary = "The audit log of staff writes, newest first",
    description = "Every staff write any service took (recorded in the write's own transaction as AUDIT_RECORDED and \
        gathered here), with what the thing was before and after. Append-only.",
    params(
        ("target" = Option<String>, Query, description = "Only this target, e.g. `page:about`."),
        ("actor" = Option<String>, Query, description = "Only this staff member's writes (their user id)."),
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "Entries, newest first.", body = AuditPage),
        (status = 403, description = "`forbidden`: needs `audit:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AuditPage>> {
    caller.require_perm(Permission::AuditRead)?;
    let mut errors = FieldErrors::default();
    let limit = errors.check(contracts::listing::PageSize::parse(query.get("limit").map(String::as_str)));
    let after = contracts::listing::parse_time_cursor(query.get("cursor").map(String::as_str), &mut errors);
    let limit = errors.finish_with(limit)?.get();
    let text = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let filter = audit::Filter { target: text("target"), actor: text("actor"), after, limit };
    let (rows, next_cursor) = audit::page(&state, &filter).await?;
    let items = rows
        .into_iter()
        .map(|e| AuditEntry {
            event_id: e.event_id,
            recorded_at: e.recorded_at,
            producer: e.producer,
            actor: e.actor,
            action: e.action,
            target: e.target,
            before: e.before,
            after: e.after,
            request_id: e.request_id,
        })
        .collect();
    Ok(Json(AuditPage { items, next_cursor }))
}
