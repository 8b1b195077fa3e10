//! Staff, customers and orders as the back office composes them from their owners (auth,
//! order, payment), each call made with the staff member's own identity so every owner checks
//! the permission again. Nothing here is stored: the owners hold the data.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::auth::{Account, Disable, Invited, NewStaff, StaffList};
use contracts::order::{OrderDetail, OrdersPage, Transition};
use contracts::payment::PaymentRecord;
use internal_token::Caller;
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema};
use service_kit::{FieldCode, FieldError, Json, Permission, Problem, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use crate::app::back_office;
use crate::error::{ApiError, Result};

fn require(caller: &Caller, permissions: &[Permission]) -> Result<()> {
    for permission in permissions {
        caller.require_perm(*permission)?;
    }
    Ok(())
}

/// An id in a path: anything but a UUID names nothing (404, as an unknown id).
fn path_id(raw: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::Problem(Problem::not_found(format!("no {what} with this id"))))
}

/// `POST /admin/staff`.
#[utoipa::path(post, path = "/admin/staff", tag = "admin", summary = "Invite a staff member",
    description = "Creates a staff account with a role (`admin`, `catalog_manager`, `order_manager`, `support`, \
        `content_editor`) and emails an invitation whose link (valid 72 hours, once) sets the password and enrols the \
        second factor (`POST /auth/staff/accept`). Recorded in the audit log.",
    request_body = NewStaff,
    responses(
        (status = 201, description = "The account and until when the invitation works.", body = Invited),
        JsonBodyProblems,
        (status = 403, description = "`forbidden`: needs `staff:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: an account with this email exists.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `email` (`invalid_email`), `role` (`invalid_value`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn invite_staff(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewStaff>,
) -> Result<Response> {
    require(&caller, &[Permission::StaffWrite])?;
    let invited = state.auth.invite_staff(caller.subject(), &body).await?;
    Ok((StatusCode::CREATED, Json(invited)).into_response())
}

/// `GET /admin/staff`.
#[utoipa::path(get, path = "/admin/staff", tag = "admin", summary = "Every staff account",
    responses(
        (status = 200, description = "Staff accounts with their roles, oldest first.", body = StaffList),
        (status = 403, description = "`forbidden`: needs `staff:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_staff(State(state): State<AppState>, caller: Caller) -> Result<Json<StaffList>> {
    require(&caller, &[Permission::StaffWrite])?;
    Ok(Json(StaffList { items: state.auth.staff(caller.subject()).await? }))
}

/// `GET /admin/customers?email=`.
#[utoipa::path(get, path = "/admin/customers", tag = "admin", summary = "Look a customer up by email",
    params(("email" = String, Query, description = "The customer's email (any case).")),
    responses(
        (status = 200, description = "The customer's account.", body = Account),
        (status = 403, description = "`forbidden`: needs `customers:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no customer with this email.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `email` (`required`, `invalid_email`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn find_customer(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Account>> {
    require(&caller, &[Permission::CustomersRead])?;
    let Some(email) = query.get("email").filter(|e| !e.trim().is_empty()) else {
        return Err(
            Problem::validation(vec![FieldError::new("email", FieldCode::Required, "the email to look up")]).into()
        );
    };
    Ok(Json(back_office::customer_by_email(&state, caller.subject(), email).await?))
}

/// `GET /admin/customers/{id}`.
#[utoipa::path(get, path = "/admin/customers/{id}", tag = "admin", summary = "A customer's account",
    params(("id" = Uuid, Path, description = "The customer's user id.")),
    responses(
        (status = 200, description = "The account: email, verification, when it was created, whether it is disabled and why.", body = Account),
        (status = 403, description = "`forbidden`: needs `customers:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no customer with this id (a staff member's id included).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Account>> {
    require(&caller, &[Permission::CustomersRead])?;
    Ok(Json(back_office::customer(&state, caller.subject(), path_id(&id, "customer")?).await?))
}

/// `GET /admin/customers/{id}/orders`.
#[utoipa::path(get, path = "/admin/customers/{id}/orders", tag = "admin", summary = "A customer's orders, newest first",
    params(
        ("id" = Uuid, Path, description = "The customer's user id."),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of the customer's orders.", body = OrdersPage),
        (status = 403, description = "`forbidden`: needs `customers:read` and `orders:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no customer with this id.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth or order is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn customer_orders(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<OrdersPage>> {
    require(&caller, &[Permission::CustomersRead, Permission::OrdersRead])?;
    let text = |name: &str| query.get(name).map(String::as_str);
    let page = (text("limit"), text("cursor"));
    Ok(Json(back_office::customer_orders(&state, caller.subject(), path_id(&id, "customer")?, page).await?))
}

/// `POST /admin/customers/{id}/disable`.
#[utoipa::path(post, path = "/admin/customers/{id}/disable", tag = "admin", summary = "Disable a customer's account",
    description = "No more sign-ins (the right password answers 403 `account_disabled`), and every session and its \
        access tokens end at once. The reason is kept with the account. Recorded in the audit log.",
    params(("id" = Uuid, Path, description = "The customer's user id.")),
    request_body = Disable,
    responses(
        (status = 200, description = "The account, disabled.", body = Account),
        JsonBodyProblems,
        (status = 403, description = "`forbidden`: needs `customers:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no customer with this id.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `reason` (`required`, `invalid_length`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn disable_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Disable>,
) -> Result<Json<Account>> {
    require(&caller, &[Permission::CustomersWrite])?;
    let id = path_id(&id, "customer")?;
    Ok(Json(back_office::disable_customer(&state, caller.subject(), id, &body.reason).await?))
}

/// `POST /admin/customers/{id}/enable`.
#[utoipa::path(post, path = "/admin/customers/{id}/enable", tag = "admin", summary = "Enable a disabled customer's account",
    params(("id" = Uuid, Path, description = "The customer's user id.")),
    responses(
        (status = 200, description = "The account, able to sign in again.", body = Account),
        (status = 403, description = "`forbidden`: needs `customers:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no customer with this id.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: auth is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn enable_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Account>> {
    require(&caller, &[Permission::CustomersWrite])?;
    Ok(Json(back_office::enable_customer(&state, caller.subject(), path_id(&id, "customer")?).await?))
}

/// An order as the back office shows it: the order, whose it is, its payment with refunds, and
/// one timeline of the order's state changes and the payment's refunds.
#[derive(serde::Serialize, ToSchema)]
pub(super) struct StaffOrder {
    #[schema(value_type = Object)]
    order: serde_json::Value,
    user_id: Uuid,
    /// `null` before the shopper started paying.
    payment: Option<PaymentRecord>,
    /// The order's state changes and the payment's refunds, oldest first.
    timeline: Vec<TimelineEntry>,
}

/// One moment of an order's life.
#[derive(serde::Serialize, ToSchema)]
pub(super) struct TimelineEntry {
    at: chrono::DateTime<chrono::Utc>,
    /// `order.<status>` (e.g. `order.paid`), `payment.started`, `refund.<status>`.
    kind: String,
    /// A user id, `system` or a service.
    actor: String,
    detail: String,
}

/// The order's transitions and the payment's moments in one list, oldest first.
fn timeline(transitions: &[Transition], payment: Option<&PaymentRecord>) -> Vec<TimelineEntry> {
    let mut entries: Vec<TimelineEntry> = transitions
        .iter()
        .map(|t| TimelineEntry {
            at: t.at,
            kind: format!("order.{}", t.to_status),
            actor: t.actor.clone(),
            detail: t.reason.clone(),
        })
        .collect();
    if let Some(payment) = payment {
        entries.push(TimelineEntry {
            at: payment.created_at,
            kind: "payment.started".into(),
            actor: "payment".into(),
            detail: format!("{} {} via {}", payment.amount_minor, payment.currency, payment.provider),
        });
        entries.extend(payment.refunds.iter().map(|r| TimelineEntry {
            at: r.created_at,
            kind: format!("refund.{}", r.status),
            actor: r.requested_by.clone(),
            detail: format!("{} {}: {}", r.amount_minor, payment.currency, r.reason),
        }));
    }
    entries.sort_by_key(|e| e.at);
    entries
}

/// `GET /admin/orders/{id}`.
#[utoipa::path(get, path = "/admin/orders/{id}", tag = "admin", summary = "An order with its payment and timeline",
    params(("id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The order, its payment (with refunds) and its timeline.", body = StaffOrder),
        (status = 403, description = "`forbidden`: needs `orders:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no order with this id.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: order or payment is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StaffOrder>> {
    require(&caller, &[Permission::OrdersRead])?;
    let id = path_id(&id, "order")?;
    let (OrderDetail { order, user_id, timeline: transitions }, payment) =
        back_office::order(&state, caller.subject(), id).await?;
    let timeline = timeline(&transitions, payment.as_ref());
    Ok(Json(StaffOrder { order, user_id: user_id.into(), payment, timeline }))
}
