//! Staff routes: every order (permission `orders:read`), shipping (whole or in fulfillments)
//! and delivering (permission `orders:write`), each transition through the one state machine
//! with its event.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use contracts::order::OrderDetail;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
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
    check_carrier(&mut errors, &body.carrier, &body.tracking_number);
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

/// One line of a fulfillment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FulfillmentLine {
    sku: String,
    /// At least 1, at most what is left of the SKU to ship.
    quantity: i64,
}

/// `POST /orders/{id}/fulfillments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewFulfillment {
    /// 1 to 100 lines, each SKU of the order at most once.
    lines: Vec<FulfillmentLine>,
    carrier: String,
    tracking_number: String,
    /// Where the shopper follows the parcel (http or https, up to 500 characters).
    #[serde(default)]
    tracking_url: Option<String>,
}

/// A new fulfillment's id and the order after it.
#[derive(Serialize, ToSchema)]
pub(super) struct Fulfilled {
    fulfillment_id: Uuid,
    order: OrderView,
}

impl NewFulfillment {
    /// Every field's problems at once; the lines as SKUs and quantities.
    fn checked(&self) -> Result<Vec<(contracts::types::Sku, contracts::types::Quantity)>> {
        let mut errors = FieldErrors::default();
        check_carrier(&mut errors, &self.carrier, &self.tracking_number);
        if let Some(url) = &self.tracking_url
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.chars().count() > 500)
        {
            errors.push("tracking_url", FieldCode::InvalidValue, "an http(s) URL of up to 500 characters");
        }
        if self.lines.is_empty() || self.lines.len() > 100 {
            errors.push("lines", FieldCode::InvalidLength, "1 to 100 lines");
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            let sku = contracts::types::Sku::parse(line.sku.trim());
            let quantity = contracts::types::Quantity::new(line.quantity).ok().filter(|q| q.get() > 0);
            match (sku, quantity) {
                (Ok(sku), Some(quantity)) if !lines.iter().any(|(s, _)| *s == sku) => lines.push((sku, quantity)),
                (Ok(_), Some(_)) => errors.push(format!("lines[{i}].sku"), FieldCode::InvalidValue, "each SKU once"),
                (Err(_), _) => errors.push(format!("lines[{i}].sku"), FieldCode::InvalidValue, "not a SKU"),
                (_, None) => errors.push(format!("lines[{i}].quantity"), FieldCode::OutOfRange, "at least 1"),
            }
        }
        errors.finish()?;
        Ok(lines)
    }
}

/// `carrier` and `tracking_number`: 1 to 100 characters each.
fn check_carrier(errors: &mut FieldErrors, carrier: &str, tracking_number: &str) {
    for (field, value) in [("carrier", carrier), ("tracking_number", tracking_number)] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            errors.push(field, FieldCode::InvalidLength, format!("{field} is 1 to 100 characters"));
        }
    }
}

/// `POST /orders/{id}/fulfillments`.
#[utoipa::path(post, path = "/orders/{id}/fulfillments", tag = "orders", summary = "Ship some or all of a paid order's lines (staff)",
    description = "Needs `orders:write`. One parcel: the lines it carries, its carrier and tracking. The first that leaves lines behind moves the order to `fulfilling`, the one that completes it to `shipped`; each sends the shopper one shipping email with its tracking (ORDER_SHIPPED per fulfillment). Never more of a SKU than is left to ship.",
    params(("id" = Uuid, Path, description = "The order's id.")),
    request_body = NewFulfillment,
    responses(
        (status = 201, description = "The fulfillment's id and the order with it.", body = Fulfilled),
        (status = 403, description = "`forbidden`: needs `orders:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such order.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`fulfillment_exceeds_order` (`skus` names them) or `invalid_transition` (not paid, or shipped in full already).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `lines` (also a SKU not in the order), `carrier`, `tracking_number`, `tracking_url`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_fulfillment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewFulfillment>,
) -> Result<axum::response::Response> {
    caller.require_perm(Permission::OrdersWrite)?;
    let id = order_id(&id)?;
    let lines = body.checked()?;
    let shipment = crate::app::fulfillments::Shipment {
        lines: Some(lines),
        carrier: body.carrier.trim(),
        tracking_number: body.tracking_number.trim(),
        tracking_url: body.tracking_url.as_deref().map(str::trim),
    };
    let fulfillment_id = crate::app::fulfillments::fulfil(&state.pool, &caller.subject().sub, id, shipment).await?;
    let order = store::find(&state.pool, id, None).await?.ok_or(ApiError::OrderNotFound)?;
    Ok((axum::http::StatusCode::CREATED, Json(Fulfilled { fulfillment_id, order })).into_response())
}

/// `POST /orders/{id}/fulfillments/{fulfillment_id}/deliver`.
#[utoipa::path(post, path = "/orders/{id}/fulfillments/{fulfillment_id}/deliver", tag = "orders", summary = "Record that one fulfillment arrived (staff)",
    description = "Needs `orders:write`. Once the order has shipped in full and every fulfillment arrived, the order is delivered (ORDER_DELIVERED). Recording an arrival again changes nothing.",
    params(
        ("id" = Uuid, Path, description = "The order's id."),
        ("fulfillment_id" = Uuid, Path, description = "The fulfillment's id."),
    ),
    responses(
        (status = 200, description = "The order.", body = OrderView),
        (status = 403, description = "`forbidden`: needs `orders:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such order, or no such fulfillment of it.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn deliver_fulfillment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, fulfillment)): Path<(String, String)>,
) -> Result<Json<OrderView>> {
    caller.require_perm(Permission::OrdersWrite)?;
    let id = order_id(&id)?;
    let fulfillment = Uuid::parse_str(&fulfillment).map_err(|_| ApiError::FulfillmentNotFound)?;
    crate::app::fulfillments::deliver(&state.pool, &caller.subject().sub, id, fulfillment).await?;
    store::find(&state.pool, id, None).await?.map(Json).ok_or(ApiError::OrderNotFound)
}
