//! The cart's HTTP routes. A signed-in shopper's bearer token names their one cart; a guest's
//! `X-Cart-Token` (from `POST /carts`) names theirs. Both use the same routes. Every answer is
//! private (`Cache-Control: no-store`).

mod internal;

use contracts::types::{Amount, Currency, Quantity, Sku};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use contracts::order::{OrderClient, QuoteLine, QuoteRequest};
use contracts::product::{ProductClient, VariantInfo};
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, fleet};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Cart, CartDiscount, CartTokens, Owner, render};
use crate::error::{ApiError, Result};
use crate::store::{Bounds, Carts, Changed};

/// The header a guest's cart token travels in.
pub(crate) const CART_TOKEN: &str = "x-cart-token";

/// Limits and lifetimes.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub guest_ttl: Duration,
    pub user_ttl: Duration,
    pub max_line_quantity: i64,
    pub max_lines: usize,
}

/// Current prices from the product service, each reused for a short while.
pub(crate) struct Prices {
    client: ProductClient,
    ttl: Duration,
    seen: Mutex<HashMap<Sku, (VariantInfo, Instant)>>,
}

impl Prices {
    pub(crate) fn new(client: ProductClient, ttl: Duration) -> Self {
        Self { client, ttl, seen: Mutex::new(HashMap::new()) }
    }

    /// The variants of `skus` (unknown ones absent), asking product only for those not seen
    /// within the TTL.
    async fn of(&self, skus: &[Sku]) -> Result<Vec<VariantInfo>> {
        let now = Instant::now();
        let (mut found, missing): (Vec<VariantInfo>, Vec<Sku>) = {
            let seen = self.seen.lock().expect("price cache lock");
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for sku in skus {
                match seen.get(sku) {
                    Some((variant, at)) if now.duration_since(*at) < self.ttl => found.push(variant.clone()),
                    _ => missing.push(sku.clone()),
                }
            }
            (found, missing)
        };
        if !missing.is_empty() {
            let fresh = self.client.variants(&missing).await?;
            let mut seen = self.seen.lock().expect("price cache lock");
            if seen.len() > 10_000 {
                seen.clear();
            }
            for variant in &fresh {
                seen.insert(variant.sku.clone(), (variant.clone(), now));
            }
            found.extend(fresh);
        }
        Ok(found)
    }
}

/// What every cart handler reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub carts: Carts,
    pub tokens: Arc<CartTokens>,
    pub prices: Arc<Prices>,
    /// Prices discount codes (the order service owns them and the totals function).
    pub orders: OrderClient,
    pub limits: Limits,
    pub currency: Currency,
}

impl AppState {
    /// Whose cart a request names, and how long it lives.
    fn owner(&self, caller: &Caller, headers: &HeaderMap) -> Result<(Owner, Duration)> {
        if let Some(id) = caller.user_id() {
            return Ok((Owner::User(id), self.limits.user_ttl));
        }
        self.guest(headers).map(|owner| (owner, self.limits.guest_ttl))
    }

    fn guest(&self, headers: &HeaderMap) -> Result<Owner> {
        let token = headers.get(CART_TOKEN).ok_or(ApiError::NoCart)?.to_str().map_err(|_| ApiError::NotFound)?;
        self.tokens.verify(token).map(Owner::Guest).ok_or(ApiError::NotFound)
    }

    /// The cart as shown: stored lines with current prices, and its discount code checked
    /// and priced now.
    async fn show(&self, owner: &Owner, ttl: Duration) -> Result<Cart> {
        let stored = self.carts.read(owner, ttl).await?;
        let skus: Vec<Sku> = stored.lines.iter().map(|l| l.sku.clone()).collect();
        let variants = self.prices.of(&skus).await?;
        let cart = render(stored.lines, &variants, stored.updated_ms, self.currency);
        let discount = match stored.discount_code {
            None => None,
            Some(code) => Some(match self.quote(owner, &code, &cart).await {
                Ok(quote) => {
                    CartDiscount { code: quote.code, discount_minor: quote.discount_minor, refusal: quote.refusal }
                }
                Err(error) => {
                    // The cart still shows; the order checks the code again at checkout.
                    tracing::warn!(%error, "a discount code could not be checked");
                    let refusal = Some("the discount cannot be checked right now".to_owned());
                    CartDiscount { code, discount_minor: Amount::ZERO, refusal }
                }
            }),
        };
        Ok(cart.with_discount(discount))
    }

    /// What `code` takes off the cart's available lines for its owner.
    async fn quote(
        &self,
        owner: &Owner,
        code: &str,
        cart: &Cart,
    ) -> std::result::Result<contracts::order::Quote, contracts::CallError> {
        let lines = cart
            .lines
            .iter()
            .filter(|l| l.available)
            .map(|l| QuoteLine { sku: l.sku.clone(), quantity: l.quantity, unit_price_minor: l.unit_price_minor })
            .collect();
        let user_id = match owner {
            Owner::User(id) => Some(*id),
            Owner::Guest(_) => None,
        };
        let request = QuoteRequest { code: code.to_owned(), user_id, lines };
        self.orders.quote(&request, &internal_token::Subject::anonymous()).await
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
    let cart = render(Vec::new(), &[], None, state.currency);
    private(StatusCode::CREATED, NewCart { cart_token: state.tokens.issue(), cart })
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
    Ok(private(StatusCode::OK, state.show(&owner, ttl).await?))
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
    state.carts.clear(&owner).await?;
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

fn check_quantity(state: &AppState, quantity: Quantity) -> Result<()> {
    let quantity = quantity.get();
    let max = state.limits.max_line_quantity;
    if (1..=max).contains(&quantity) {
        return Ok(());
    }
    let mut errors = FieldErrors::default();
    errors.push("quantity", FieldCode::OutOfRange, format!("a quantity is 1 to {max}"));
    Ok(errors.finish()?)
}

fn applied(state: &AppState, changed: Changed) -> Result<()> {
    match changed {
        Changed::Quantity(_) => Ok(()),
        Changed::TooMany => Err(ApiError::Limit(format!("a line holds at most {}", state.limits.max_line_quantity))),
        Changed::TooManyLines => Err(ApiError::Limit(format!("a cart holds at most {} lines", state.limits.max_lines))),
        Changed::NoLine => Err(ApiError::NotFound),
    }
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
    check_quantity(&state, body.quantity)?;
    // Text that is no SKU is no SKU on sale.
    let sku = Sku::parse(body.sku.trim()).map_err(|_| ApiError::UnknownSku(body.sku.trim().to_owned()))?;
    let variant = state
        .prices
        .of(std::slice::from_ref(&sku))
        .await?
        .into_iter()
        .find(|v| v.purchasable)
        .ok_or_else(|| ApiError::UnknownSku(sku.to_string()))?;
    if !variant.in_stock {
        return Err(ApiError::OutOfStock(sku));
    }
    let bounds = Bounds { max_quantity: state.limits.max_line_quantity, max_lines: state.limits.max_lines, ttl };
    let changed = state.carts.add(&owner, sku.as_str(), body.quantity.get(), variant.price_minor, bounds).await?;
    applied(&state, changed)?;
    Ok(private(StatusCode::OK, state.show(&owner, ttl).await?))
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
    check_quantity(&state, body.quantity)?;
    applied(&state, state.carts.set(&owner, &sku, body.quantity.get(), ttl).await?)?;
    Ok(private(StatusCode::OK, state.show(&owner, ttl).await?))
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
    applied(&state, state.carts.remove(&owner, &sku, ttl).await?)?;
    Ok(private(StatusCode::OK, state.show(&owner, ttl).await?))
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
    let limits = &state.limits;
    let bounds = Bounds { max_quantity: limits.max_line_quantity, max_lines: limits.max_lines, ttl: limits.user_ttl };
    state.carts.merge(&guest, &user, bounds).await?;
    Ok(private(StatusCode::OK, state.show(&user, limits.user_ttl).await?))
}

/// `POST /carts/current/discount`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyDiscount {
    /// The code, any case.
    code: String,
}

/// How many refused discount codes a cart may try within `REFUSED_CODES_WINDOW`.
const MAX_REFUSED_CODES: i64 = 5;
const REFUSED_CODES_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

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
    let code = body.code.trim();
    if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        let mut errors = FieldErrors::default();
        errors.push("code", FieldCode::InvalidValue, "a discount code is 1 to 32 letters, digits, - or _");
        errors.finish()?;
    }
    // A few refused codes per cart and quarter hour (review f5592e3 L2: the answers were an
    // oracle for private codes), besides the gateway's per-client limit.
    let (refused, left) = state.carts.discount_refusals(&owner).await?;
    if refused >= MAX_REFUSED_CODES {
        return Err(ApiError::DiscountTries(left.as_secs().max(1)));
    }
    let cart = state.show(&owner, ttl).await?;
    let quote = state.quote(&owner, code, &cart).await?;
    if let Some(refusal) = quote.refusal {
        state.carts.discount_refused(&owner, REFUSED_CODES_WINDOW).await?;
        return Err(ApiError::DiscountInvalid(refusal));
    }
    state.carts.set_discount(&owner, Some(&quote.code), ttl).await?;
    let discount = CartDiscount { code: quote.code, discount_minor: quote.discount_minor, refusal: None };
    Ok(private(StatusCode::OK, cart.with_discount(Some(discount))))
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
    state.carts.set_discount(&owner, None, ttl).await?;
    Ok(private(StatusCode::OK, state.show(&owner, ttl).await?))
}
