//! The order service's HTTP routes: placing an order (with an Idempotency-Key), the shopper's
//! own orders, and cancelling an unpaid one.

mod discounts;
mod internal;
mod shipping;
mod staff;
mod taxes;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use contracts::user::PostalAddress;
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, OptionalJson, Query, fleet};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) use crate::app::AppState;
use crate::app::checkout::{self, Destination, Placed, ShipTo};
use crate::error::{ApiError, Result};
use crate::store::{self, OrderView};

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(get_invoice))
        .routes(routes!(get_credit_note))
        .routes(routes!(cancel_order))
        .routes(routes!(staff::all_orders))
        .routes(routes!(staff::ship))
        .routes(routes!(staff::deliver))
        .routes(routes!(staff::create_fulfillment))
        .routes(routes!(staff::deliver_fulfillment))
        .routes(routes!(discounts::create_discount, discounts::list_discounts))
        .routes(routes!(discounts::get_discount, discounts::update_discount, discounts::deactivate_discount))
        .routes(routes!(shipping::countries))
        .routes(routes!(shipping::list_zones, shipping::create_zone))
        .routes(routes!(shipping::get_zone, shipping::update_zone, shipping::delete_zone))
        .routes(routes!(shipping::list_methods, shipping::create_method))
        .routes(routes!(shipping::get_method, shipping::update_method, shipping::delete_method))
        .routes(routes!(taxes::list_rates))
        .routes(routes!(taxes::set_rate, taxes::remove_rate))
}

/// The public routes (from the gateway) and the internal ones: the order read for the payment
/// service only, the discount quote for the cart service only.
pub(crate) fn router(state: AppState) -> Router {
    let public = api().with_state(state.clone()).split_for_parts().0.route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    public
        .merge(internal::payment_router(state.clone()).route_layer(from_fn(only_from(&[fleet::PAYMENT]))))
        .merge(internal::cart_router(state.clone()).route_layer(from_fn(only_from(&[fleet::CART]))))
        .merge(internal::admin_router(state.clone()).route_layer(from_fn(only_from(&[fleet::ADMIN]))))
        .merge(internal::export_router(state).route_layer(from_fn(only_from(&[fleet::USER]))))
}

/// The OpenAPI description of the service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn shopper(caller: &Caller) -> Result<Uuid> {
    caller.user_id().ok_or(ApiError::NotSignedIn)
}

/// An address typed in at checkout (instead of a saved one).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InlineAddress {
    recipient_name: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    /// ISO 3166-1 alpha-2.
    country: String,
    phone: Option<String>,
}

/// `POST /orders`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaceOrder {
    /// One of the shopper's saved addresses…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address_id: Option<Uuid>,
    /// …or one typed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<InlineAddress>)]
    pub shipping_address: Option<PostalAddress>,
    /// The shipping method chosen (one that serves the address's country); left out, the
    /// cart's choice, else the first method, in the shop's order, that ships the order there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method_id: Option<Uuid>,
    /// Where the invoice goes: one of the shopper's saved addresses…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address_id: Option<Uuid>,
    /// …or one typed in; neither: the shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<InlineAddress>)]
    pub billing_address: Option<PostalAddress>,
    /// The buyer's VAT ID for the invoice (`DE123456789`: a country prefix and 2 to 12 letters
    /// or digits; spaces are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

/// A VAT ID as written: spaces dropped, upper case, a two-letter prefix and 2 to 12 characters.
fn vat_id(raw: &str) -> Option<String> {
    let id: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let (prefix, rest) = id.split_at_checked(2)?;
    let valid = prefix.bytes().all(|b| b.is_ascii_uppercase())
        && (2..=12).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"+*.".contains(&b));
    valid.then_some(id)
}

/// Where the order goes, once the body names exactly one address (a typed-in one checked by
/// the address book's own rules, review f5592e3 L3: every field bounded, no control characters,
/// the country and phone checked; trimmed and normalized as the book keeps it).
fn check_place(body: &PlaceOrder) -> Result<Destination> {
    let mut errors = FieldErrors::default();
    let ship_to = match (&body.shipping_address_id, &body.shipping_address) {
        (Some(id), None) => Some(ShipTo::Saved(*id)),
        (None, Some(a)) => a.validated("shipping_address", &mut errors).map(ShipTo::Typed),
        (Some(_), Some(_)) | (None, None) => {
            errors.push(
                "shipping_address_id",
                FieldCode::Required,
                "give shipping_address_id or shipping_address, one of them",
            );
            None
        }
    };
    let bill_to = match (&body.billing_address_id, &body.billing_address) {
        (Some(id), None) => Some(ShipTo::Saved(*id)),
        (None, Some(a)) => a.validated("billing_address", &mut errors).map(ShipTo::Typed),
        (None, None) => None,
        (Some(_), Some(_)) => {
            errors.push(
                "billing_address_id",
                FieldCode::InvalidValue,
                "give billing_address_id or billing_address, not both",
            );
            None
        }
    };
    let vat_id = match body.vat_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => {
            let checked = vat_id(raw);
            if checked.is_none() {
                errors.push(
                    "vat_id",
                    FieldCode::InvalidValue,
                    "a VAT ID: a country prefix and 2 to 12 letters or digits",
                );
            }
            checked
        }
    };
    let ship_to = errors.finish_with(ship_to)?;
    Ok(Destination { ship_to, method: body.shipping_method_id, bill_to, vat_id })
}

/// `POST /orders`.
#[utoipa::path(post, path = "/orders", tag = "orders", summary = "Place an order from the cart",
    description = "Reads the cart, the current prices, the address and the contact email; prices shipping with the method chosen (or the shop's first that ships the order there); reserves the stock (all lines or none) and writes the order awaiting payment, with a payment deadline. The same Idempotency-Key with the same body answers the same order; keys belong to the shopper and are kept 24 hours.",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible characters, unique per checkout attempt.")),
    request_body = PlaceOrder,
    responses(
        (status = 201, description = "The order, awaiting payment.", body = OrderView),
        (status = 200, description = "The same order again (the key was used with this body before).", body = OrderView),
        (status = 403, description = "`email_unverified`: confirm the email address first.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`out_of_stock` (`skus` names them; nothing is held), `idempotency_key_in_use` (retry shortly), `reservation_released` (a resumed checkout's stock was let go meanwhile: nothing was ordered and the key is free; send it again to start afresh), `too_many_unpaid_orders` (pay or cancel an open order first), or `quantity_limit_exceeded` (`skus` names them: more units of a SKU than one order, or the shopper's open unpaid orders together, may hold).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`amount_out_of_range` (the cart's amounts are beyond what one order may hold), `cart_empty`, `discount_code_invalid` (the cart's code no longer applies; the detail says why), `idempotency_key_reused`, `shipping_unavailable` (no method ships the order to the address, or the one chosen does not: `shipping_method_id` names it), or `validation_failed` (`Idempotency-Key`, the address).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: retry with the same key.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn place_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<PlaceOrder>,
) -> Result<Response> {
    let user_id = shopper(&caller)?;
    let key = service_kit::idempotency::key(&headers)?;
    let destination = check_place(&body)?;
    let hash = service_kit::idempotency::fingerprint(&body);
    Ok(match checkout::place(&state, caller.subject(), user_id, &key, &hash, &destination).await? {
        Placed::Created(order) => (StatusCode::CREATED, Json(order)).into_response(),
        Placed::Replayed(order) => (StatusCode::OK, Json(order)).into_response(),
    })
}

/// A page of orders.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrderPage {
    items: Vec<OrderView>,
    next_cursor: Option<String>,
}

/// `GET /orders`.
#[utoipa::path(get, path = "/orders", tag = "orders", summary = "The shopper's orders, newest first",
    params(
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of orders.", body = OrderPage),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<OrderPage>> {
    let user_id = shopper(&caller)?;
    let mut errors = FieldErrors::default();
    let (limit, after) = page_params(&query, &mut errors);
    errors.finish()?;
    let items = store::list(&state.pool, Some(user_id), None, after, limit).await?;
    Ok(Json(OrderPage::of(items, limit)))
}

/// `limit` and `cursor` of an order listing, invalid ones recorded in `errors`.
/// The cursor after a row of a newest-first page (what [`page_params`] reads back).
fn cursor(created_at: chrono::DateTime<chrono::Utc>, id: Uuid) -> String {
    contracts::listing::time_cursor(created_at, id)
}

fn page_params(
    query: &std::collections::HashMap<String, String>,
    errors: &mut FieldErrors,
) -> (i64, Option<(chrono::DateTime<chrono::Utc>, Uuid)>) {
    let limit = match query.get("limit").map(|l| l.parse::<i64>()) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            errors.push("limit", FieldCode::OutOfRange, "limit is 1 to 100");
            20
        }
    };
    let after = contracts::listing::parse_time_cursor(query.get("cursor").map(String::as_str), errors);
    (limit, after)
}

impl OrderPage {
    /// A page from `limit + 1` rows.
    fn of(mut items: Vec<OrderView>, limit: i64) -> Self {
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|o| cursor(o.created_at, o.id))
        } else {
            None
        };
        OrderPage { items, next_cursor }
    }
}

fn order_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::OrderNotFound)
}

/// `GET /orders/{id}`.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", summary = "One of the shopper's orders",
    params(("id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The order (the body `POST /orders` answered).", body = OrderView),
        (status = 404, description = "`not_found`: no such order of this shopper (another shopper's id included).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_order(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<OrderView>> {
    let user_id = shopper(&caller)?;
    store::find(&state.pool, order_id(&id)?, Some(user_id)).await?.map(Json).ok_or(ApiError::OrderNotFound)
}

/// `GET /orders/{id}/invoice`.
#[utoipa::path(get, path = "/orders/{id}/invoice", tag = "orders", summary = "The order's invoice, as a PDF",
    description = "Issued when the order is paid, in the same transaction, numbered from a gap-free sequence per year (`INV-2026-000123`), and kept as issued: seller, billing address, VAT IDs, lines with their tax, totals and the VAT per rate. A shopper gets their own order's; staff with `orders:read` any order's.",
    params(("id" = Uuid, Path, description = "The order's id.")),
    responses(
        (status = 200, description = "The invoice.", content_type = "application/pdf", body = String),
        (status = 404, description = "`not_found`: no such order of this shopper, or no invoice yet (unpaid).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_invoice(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    document(&state, &caller, &id, None).await
}

/// `GET /orders/{id}/credit-notes/{number}`.
#[utoipa::path(get, path = "/orders/{id}/credit-notes/{number}", tag = "orders", summary = "One of the order's credit notes, as a PDF",
    description = "Issued for each refund of a paid order, in the transaction that records it, numbered from its own gap-free sequence per year (`CN-2026-000045`) against the order's invoice, and kept as issued: the amount given back and the VAT it contains at the order's rate. The order lists its `credit_notes`. A shopper gets their own order's; staff with `orders:read` any order's.",
    params(
        ("id" = Uuid, Path, description = "The order's id."),
        ("number" = String, Path, description = "The credit note's number, as the order lists it."),
    ),
    responses(
        (status = 200, description = "The credit note.", content_type = "application/pdf", body = String),
        (status = 404, description = "`not_found`: no such order of this shopper, or no such credit note of it.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_credit_note(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, String)>,
) -> Result<Response> {
    document(&state, &caller, &id, Some(&number)).await
}

/// An order's invoice (`number` `None`) or credit note as a PDF, for its shopper or staff who
/// read orders.
async fn document(state: &AppState, caller: &Caller, id: &str, number: Option<&str>) -> Result<Response> {
    let id = order_id(id)?;
    let owner = if caller.has_perm(service_kit::Permission::OrdersRead) { None } else { Some(shopper(caller)?) };
    let document =
        store::invoices::document_of(&state.pool, id, number, owner).await?.ok_or(ApiError::InvoiceNotFound)?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()),
        (axum::http::header::CONTENT_DISPOSITION, format!("inline; filename=\"{}.pdf\"", document.number)),
        (axum::http::header::CACHE_CONTROL, "private, no-store".to_owned()),
    ];
    Ok((headers, document.pdf()).into_response())
}

/// `POST /orders/{id}/cancel`: staff say why; a shopper sends no body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelOrder {
    /// Staff only, 1 to 500 characters: told to the shopper and kept in the order's timeline.
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /orders/{id}/cancel`.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", summary = "Cancel an order",
    description = "A shopper cancels their own order while it awaits payment: its stock is released (ORDER_CANCELLED). Staff with `orders:write` cancel any order that has not shipped, with a `reason`: a paid one is refunded in full through the payment provider and its stock goes back to stock; its discount use is given back and the shopper is told. A shipped order comes back as a return instead.",
    params(("id" = Uuid, Path, description = "The order's id.")),
    request_body(content = Option<CancelOrder>, description = "Staff: `{\"reason\"}`; a shopper sends none."),
    responses(
        (status = 200, description = "The order, cancelled.", body = OrderView),
        (status = 404, description = "`not_found`: no such order (of this shopper, for a shopper).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: a shopper's order is no longer awaiting payment, or (staff) it has shipped or ended.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `reason` (staff need one; a shopper sends none).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn cancel_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CancelOrder>,
) -> Result<Json<OrderView>> {
    let id = order_id(&id)?;
    let staff = caller.has_perm(service_kit::Permission::OrdersWrite);
    let mut errors = FieldErrors::default();
    let reason = body.reason.as_deref().map(str::trim);
    match (staff, reason) {
        (true, Some(reason)) if !reason.is_empty() && reason.chars().count() <= 500 => {
            crate::app::orders::staff_cancel(&state.pool, &caller.subject().sub, id, reason).await?;
            return store::find(&state.pool, id, None).await?.map(Json).ok_or(ApiError::OrderNotFound);
        }
        (true, _) => errors.push("reason", FieldCode::InvalidLength, "staff give a reason of 1 to 500 characters"),
        (false, Some(_)) => errors.push("reason", FieldCode::InvalidValue, "only staff give a reason"),
        (false, None) => {}
    }
    errors.finish()?;
    let user_id = shopper(&caller)?;
    crate::app::orders::cancel(&state.pool, user_id, id).await?;
    store::find(&state.pool, id, Some(user_id)).await?.map(Json).ok_or(ApiError::OrderNotFound)
}
