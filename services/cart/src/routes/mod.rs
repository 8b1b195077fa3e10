//! The cart's HTTP routes. A signed-in shopper's bearer token names their one cart; a guest's
//! `X-Cart-Token` (from `POST /carts`) names theirs. Both use the same routes. Every answer is
//! private (`Cache-Control: no-store`).

mod internal;

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use contracts::types::{Quantity, Sku};
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Query, fleet};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use crate::app::AppState;
use crate::app::carts;
use crate::domain::{Cart, Owner};
use crate::error::{ApiError, Result};

/// The header a guest's cart token travels in.
pub(crate) const CART_TOKEN: &str = "x-cart-token";

impl AppState {
    /// Whose cart a request names, and how long it lives.
    fn owner(&self, caller: &Caller, headers: &HeaderMap) -> Result<(Owner, Duration)> {
        if let Some(id) = caller.user_id() {
            return Ok((Owner::User(id), self.limits.user_ttl));
        }
        self.guest(headers).map(|owner| (owner, self.limits.guest_ttl))
    }

    /// The guest cart the `X-Cart-Token` names.
    fn guest(&self, headers: &HeaderMap) -> Result<Owner> {
        let token = headers.get(CART_TOKEN).ok_or(ApiError::NoCart)?.to_str().map_err(|_| ApiError::NotFound)?;
        self.tokens.verify(token).map(Owner::Guest).ok_or(ApiError::NotFound)
    }
}

/// The routes and their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_cart))
        .routes(routes!(get_cart, clear_cart))
        .routes(routes!(add_item))
        .routes(routes!(set_item, remove_item))
        .routes(routes!(merge))
        .routes(routes!(apply_discount, remove_discount))
        .routes(routes!(shipping_methods))
        .routes(routes!(choose_shipping, forget_shipping))
}

/// The public routes (from the gateway) and the internal one (from the order service only).
pub(crate) fn router(state: AppState) -> Router {
    let public = api().with_state(state.clone()).split_for_parts().0.route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    public.merge(internal::router(state).route_layer(from_fn(only_from(&[fleet::ORDER]))))
}

/// The OpenAPI description of the public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn private(status: StatusCode, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A new guest cart.
#[derive(Serialize, ToSchema)]
pub(crate) struct NewCart {
    /// Send as `X-Cart-Token` on every call for this cart. Opaque; keep it like a password.
    cart_token: String,
    cart: Cart,
}

/// `POST /carts`.
#[utoipa::path(post, path = "/carts", tag = "carts", summary = "Start a guest cart",
    description = "Nothing is stored until the first line is added. Signed-in shoppers need no token: their bearer token names their cart.",
    responses((status = 201, description = "The token and the (empty) cart.", body = NewCart)))]
async fn create_cart(State(state): State<AppState>) -> Response {
    private(StatusCode::CREATED, NewCart { cart_token: state.tokens.issue(), cart: carts::empty(&state) })
}

const NO_CART: &str = "`token_missing`: neither signed in nor an `X-Cart-Token`.";
const NOT_FOUND: &str = "`not_found`: the `X-Cart-Token` is not one this shop issued (or the line is not in the cart).";

/// `GET /carts/current`.
#[utoipa::path(get, path = "/carts/current", tag = "carts", summary = "The current cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token (not needed when signed in).")),
    responses(
        (status = 200, description = "The cart with current prices, changed prices flagged.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_cart(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::show(&state, &owner, ttl).await?))
}

/// `DELETE /carts/current`.
#[utoipa::path(delete, path = "/carts/current", tag = "carts", summary = "Empty the cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    responses(
        (status = 204, description = "Emptied."),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn clear_cart(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<StatusCode> {
    let (owner, _) = state.owner(&caller, &headers)?;
    carts::clear(&state, &owner).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A line to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddItem {
    #[schema(value_type = Sku)]
    sku: String,
    /// Added to the line's quantity.
    quantity: Quantity,
}

/// A line's new quantity.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetItem {
    quantity: Quantity,
}

/// `POST /carts/current/items`.
#[utoipa::path(post, path = "/carts/current/items", tag = "carts", summary = "Add a SKU to the cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    request_body = AddItem,
    responses(
        (status = 200, description = "The cart.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`out_of_stock`: the SKU cannot be bought now.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `sku` not on sale, or `quantity` beyond the line or cart limits.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: prices cannot be looked up now.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn add_item(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<AddItem>,
) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::add(&state, &owner, ttl, &body.sku, body.quantity).await?))
}

/// `PATCH /carts/current/items/{sku}`.
#[utoipa::path(patch, path = "/carts/current/items/{sku}", tag = "carts", summary = "Change a line's quantity",
    params(("sku" = String, Path, description = "The line's SKU."), ("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    request_body = SetItem,
    responses(
        (status = 200, description = "The cart.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `quantity` outside 1 to the line limit.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn set_item(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(sku): Path<String>,
    Json(body): Json<SetItem>,
) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::set(&state, &owner, ttl, &sku, body.quantity).await?))
}

/// `DELETE /carts/current/items/{sku}`.
#[utoipa::path(delete, path = "/carts/current/items/{sku}", tag = "carts", summary = "Remove a line",
    params(("sku" = String, Path, description = "The line's SKU."), ("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    responses(
        (status = 200, description = "The cart.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn remove_item(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(sku): Path<String>,
) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::remove(&state, &owner, ttl, &sku).await?))
}

/// `POST /carts/current/merge`.
#[utoipa::path(post, path = "/carts/current/merge", tag = "carts", summary = "Fold a guest cart into the signed-in shopper's",
    description = "Quantities are added (capped by the per-line and per-cart limits); the guest cart is deleted. Retrying is safe.",
    params(("X-Cart-Token" = String, Header, description = "The guest cart's token.")),
    responses(
        (status = 200, description = "The shopper's cart.", body = Cart),
        (status = 401, description = "`token_missing`: not signed in, or no `X-Cart-Token`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn merge(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    let user = Owner::User(caller.user_id().ok_or(ApiError::NoCart)?);
    let guest = state.guest(&headers)?;
    Ok(private(StatusCode::OK, carts::merge(&state, &guest, &user).await?))
}

/// `POST /carts/current/discount`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyDiscount {
    /// The code, any case.
    code: String,
}

/// `POST /carts/current/discount`.
#[utoipa::path(post, path = "/carts/current/discount", tag = "carts", summary = "Apply a discount code",
    description = "Checked now against the cart (validity window, usage limits, minimum subtotal) and shown in the cart's totals; checked again, and counted, when the order is placed. A new code replaces the one applied.",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    request_body = ApplyDiscount,
    responses(
        (status = 200, description = "The cart with the discount.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`discount_code_invalid` (\"does not apply\" for an unknown, ended or used-up code alike; a valid code says when the subtotal is below its minimum) or `validation_failed` (`code`).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: five codes were refused for this cart within 15 minutes (Retry-After).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the code cannot be checked now.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn apply_discount(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<ApplyDiscount>,
) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::apply_discount(&state, &owner, ttl, &body.code).await?))
}

/// `DELETE /carts/current/discount`.
#[utoipa::path(delete, path = "/carts/current/discount", tag = "carts", summary = "Take the discount code off",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    responses(
        (status = 200, description = "The cart without a discount.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn remove_discount(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::remove_discount(&state, &owner, ttl).await?))
}

/// The shipping methods for the cart.
#[derive(Serialize, ToSchema)]
pub(crate) struct ShippingMethods {
    items: Vec<contracts::order::ShippingOffer>,
}

/// `GET /carts/current/shipping-methods`.
#[utoipa::path(get, path = "/carts/current/shipping-methods", tag = "carts", summary = "What ships the cart to a country, each priced",
    description = "The shop's methods that ship the cart's available lines to `country` now (its zones', or the rest of the world's where no zone names it), in the shop's order, each priced for this cart: by its rule (flat, or bands of weight or of the subtotal after the cart's discount), free from its threshold. An empty list: nothing ships there. The checkout prices the method chosen the same way.",
    params(
        ("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token."),
        ("country" = String, Query, description = "ISO 3166-1 alpha-2, any case."),
    ),
    responses(
        (status = 200, description = "The methods, each with its price.", body = ShippingMethods),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `country`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the methods cannot be priced now.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn shipping_methods(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    let country = query.get("country").map(|c| c.trim().to_ascii_uppercase()).unwrap_or_default();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        let mut errors = FieldErrors::default();
        errors.push("country", FieldCode::InvalidValue, "a two-letter country code (ISO 3166-1)");
        errors.finish()?;
    }
    let items = carts::shipping_methods(&state, &owner, ttl, &country).await?;
    Ok(private(StatusCode::OK, ShippingMethods { items }))
}

/// `PUT /carts/current/shipping-method`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChooseShipping {
    /// One of `GET /carts/current/shipping-methods`.
    shipping_method_id: uuid::Uuid,
}

/// `PUT /carts/current/shipping-method`.
#[utoipa::path(put, path = "/carts/current/shipping-method", tag = "carts", summary = "Choose the cart's shipping method",
    description = "The cart keeps it (`shipping_method_id`) and the checkout ships with it unless its body names another; a method that does not ship the order to its address then is refused there (`shipping_unavailable`, naming it).",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    request_body = ChooseShipping,
    responses(
        (status = 200, description = "The cart with its method.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `shipping_method_id`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn choose_shipping(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<ChooseShipping>,
) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::choose_shipping(&state, &owner, ttl, Some(body.shipping_method_id)).await?))
}

/// `DELETE /carts/current/shipping-method`.
#[utoipa::path(delete, path = "/carts/current/shipping-method", tag = "carts", summary = "Forget the cart's shipping method",
    description = "The checkout then ships with the first method that ships the order, unless its body names one.",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token.")),
    responses(
        (status = 200, description = "The cart without a method.", body = Cart),
        (status = 401, description = NO_CART, body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn forget_shipping(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    let (owner, ttl) = state.owner(&caller, &headers)?;
    Ok(private(StatusCode::OK, carts::choose_shipping(&state, &owner, ttl, None).await?))
}
