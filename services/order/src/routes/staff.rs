//! Staff routes: every order (permission `orders:read`), shipping and delivering (permission
//! `orders:write`), each transition through the one state machine with its event.

use axum::extract::{Path, State};
use contracts::order::OrderDetail;
use internal_token::Caller;
use serde::Deserialize;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, OrderPage, order_id, page_params};
use crate::domain::Status;
use crate::error::{ApiError, Result};
use crate::store::{self, OrderView};

/// `GET /orders/all`.
#[utoipa::path(get, path = "/orders/all", tag = "orders", summary = "Every order, newest first (staff)",
    params(
        ("status" = Option<String>, Query, description = "Only orders in this state (`awaiting_payment`, `paid`, …)."),
        ("user_id" = Option<Uuid>, Query, description = "Only this customer's orders."),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of orders.", body = OrderPage),
        (status = 422, description = "`validation_failed`: `status`, `user_id`, `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn all_orders(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<OrderPage>> {
    caller.require_perm(Permission::OrdersRead)?;
    let mut errors = FieldErrors::default();
    let status = query.get("status").map(String::as_str);
    if status.is_some_and(|s| Status::parse(s).is_none()) {
        errors.push("status", FieldCode::InvalidValue, "not an order status");
    }
    let owner = query.get("user_id").and_then(|raw| match Uuid::parse_str(raw) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push("user_id", FieldCode::InvalidValue, "a user id (UUID)");
            None
        }
    });
    let (limit, after) = page_params(&query, &mut errors);
    errors.finish()?;
    let items = store::list(&state.pool, owner, status, after, limit).await?;
    Ok(Json(OrderPage::of(items, limit)))
}

/// `GET /internal/orders/{id}/detail` (admin, `orders:read`): the order, whose it is, and its
/// timeline.
pub(super) async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderDetail>> {
    caller.require_perm(Permission::OrdersRead)?;
    let id = order_id(&id)?;
    let (order, summary, timeline) = tokio::try_join!(
        store::find(&state.pool, id, None),
        store::summary(&state.pool, id),
        store::transitions(&state.pool, id),
    )?;
    let (Some(order), Some(summary)) = (order, summary) else { return Err(ApiError::OrderNotFound) };
    let order = serde_json::to_value(order).map_err(|e| ApiError::Problem(service_kit::Problem::internal(&e)))?;
    Ok(Json(OrderDetail { order, user_id: summary.user_id, timeline }))
}

/// `POST /orders/{id}/ship`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Shipment {
    carrier: String,
    tracking_number: String,
}

/// `POST /orders/{id}/ship`.
#[utoipa::path(post, path = "/orders/{id}/ship", tag = "orders", summary = "Hand a paid order to a carrier (staff)",
    params(("id" = Uuid, Path, description = "The order's id.")),
    request_body = Shipment,
    responses(
        (status = 200, description = "The order, shipped (ORDER_SHIPPED; the shopper is told).", body = OrderView),
        (status = 404, description = "`not_found`: no such order.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: not paid (or already shipped).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `carrier`, `tracking_number`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn ship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Shipment>,
) -> Result<Json<OrderView>> {
    caller.require_perm(Permission::OrdersWrite)?;
    let id = order_id(&id)?;
    let mut errors = FieldErrors::default();
    for (field, value) in [("carrier", &body.carrier), ("tracking_number", &body.tracking_number)] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            errors.push(field, FieldCode::InvalidLength, format!("{field} is 1 to 100 characters"));
        }
    }
    errors.finish()?;
    let actor = caller.subject().sub.clone();
    crate::app::orders::ship(&state.pool, &actor, id, body.carrier.trim(), body.tracking_number.trim()).await?;
    store::find(&state.pool, id, None).await?.map(Json).ok_or(ApiError::OrderNotFound)
}

/// `POST /orders/{id}/deliver`.
#[utoipa::path(post, path = "/orders/{id}/deliver", tag = "orders", summary = "Record that a shipped order arrived (staff)",
    params(("id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The order, delivered (ORDER_DELIVERED: its buyer's reviews become verified purchases).", body = OrderView),
        (status = 404, description = "`not_found`: no such order.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: not shipped.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn deliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderView>> {
    caller.require_perm(Permission::OrdersWrite)?;
    let id = order_id(&id)?;
    let actor = caller.subject().sub.clone();
    crate::app::orders::deliver(&state.pool, &actor, id).await?;
    store::find(&state.pool, id, None).await?.map(Json).ok_or(ApiError::OrderNotFound)
}
