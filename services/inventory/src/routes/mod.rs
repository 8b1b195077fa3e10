//! The inventory's HTTP routes: stock availability for shoppers, levels and the ledger for staff
//! (permission `inventory:write`), and the internal reservation routes for the order service.

mod internal;

use axum::Router;
use axum::extract::{Path, State};
use axum::middleware::from_fn;
use contracts::types::{Quantity, Sku};
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldError, FieldErrors, Json, Permission, Problem, Query, fleet};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::stock;
use crate::store::{self, Movement, StockRow, Why};

/// What every inventory handler reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub show_quantity: bool,
    /// Default hold of a reservation, in seconds.
    pub hold_secs: f64,
}

/// The public routes and their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stock))
        .routes(routes!(get_stock, set_stock))
        .routes(routes!(adjust_stock))
        .routes(routes!(ledger))
}

/// The public routes (from the gateway) and the internal ones (from the order service only).
pub(crate) fn router(state: AppState) -> Router {
    let public = api().with_state(state.clone()).split_for_parts().0.route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    public.merge(internal::router(state).route_layer(from_fn(only_from(&[fleet::ORDER]))))
}

/// The OpenAPI description of the public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// Whether a SKU can be bought now.
#[derive(Serialize, ToSchema)]
pub(crate) struct Availability {
    #[schema(value_type = Sku)]
    sku: String,
    /// On hand minus reserved is above zero.
    available: bool,
    /// How many, when the shop shows quantities.
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<Quantity>,
}

impl AppState {
    fn availability(&self, sku: String, row: Option<&StockRow>) -> Availability {
        let available_quantity = row.map_or(Quantity::ZERO, StockRow::available_quantity);
        Availability {
            sku,
            available: !available_quantity.is_zero(),
            quantity: self.show_quantity.then_some(available_quantity),
        }
    }
}

fn sku_path(sku: &str) -> Result<()> {
    if Sku::is_valid(sku) { Ok(()) } else { Err(ApiError::UnknownSku) }
}

/// `GET /stock/{sku}`.
#[utoipa::path(get, path = "/stock/{sku}", tag = "inventory", summary = "Whether a SKU is available",
    params(("sku" = String, Path, description = "The variant's SKU.")),
    responses(
        (status = 200, description = "Availability (and the quantity when the shop shows it).", body = Availability),
        (status = 404, description = "`not_found`: no stock is kept for this SKU.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_stock(State(state): State<AppState>, Path(sku): Path<String>) -> Result<Json<Availability>> {
    sku_path(&sku)?;
    let rows = store::stock_of(&state.pool, std::slice::from_ref(&sku)).await?;
    let row = rows.first().ok_or(ApiError::UnknownSku)?;
    Ok(Json(state.availability(sku.clone(), Some(row))))
}

/// The availability of several SKUs.
#[derive(Serialize, ToSchema)]
pub(crate) struct AvailabilityList {
    items: Vec<Availability>,
}

/// `GET /stock?skus=a,b,c`.
#[utoipa::path(get, path = "/stock", tag = "inventory", summary = "The availability of up to 100 SKUs (a cart page)",
    params(("skus" = String, Query, description = "Comma-separated SKUs; an unknown SKU is reported unavailable.")),
    responses(
        (status = 200, description = "One entry per SKU asked, in the order asked.", body = AvailabilityList),
        (status = 422, description = "`validation_failed`: `skus` missing, over 100, or not SKUs.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn list_stock(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<AvailabilityList>> {
    let mut skus: Vec<String> = query
        .get("skus")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    skus.dedup();
    if skus.is_empty() || skus.len() > 100 || !skus.iter().all(|s| Sku::is_valid(s)) {
        return Err(Problem::validation(vec![FieldError::new(
            "skus",
            FieldCode::InvalidValue,
            "1 to 100 comma-separated SKUs",
        )])
        .into());
    }
    let rows = store::stock_of(&state.pool, &skus).await?;
    let items = skus
        .into_iter()
        .map(|sku| {
            let row = rows.iter().find(|r| r.sku == sku);
            state.availability(sku, row)
        })
        .collect();
    Ok(Json(AvailabilityList { items }))
}

/// `PUT /stock/{sku}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetStock {
    /// The counted quantity on hand.
    on_hand: i64,
    /// Why (kept in the ledger).
    reason: String,
    /// STOCK_LOW below this many available.
    low_threshold: Option<i64>,
}

/// `POST /stock/{sku}/adjustments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Adjustment {
    /// Added to on hand (negative removes: breakage, loss).
    delta: i64,
    reason: String,
}

fn staff(caller: &Caller) -> Result<String> {
    caller.require_perm(Permission::InventoryWrite)?;
    Ok(caller.subject().sub.clone())
}

fn check_reason(errors: &mut FieldErrors, reason: &str) {
    if reason.trim().is_empty() || reason.chars().count() > 200 {
        errors.push("reason", FieldCode::InvalidLength, "a reason of 1 to 200 characters");
    }
}

/// `PUT /stock/{sku}`.
#[utoipa::path(put, path = "/stock/{sku}", tag = "inventory", summary = "Set a SKU's quantity on hand (creates the SKU)",
    params(("sku" = String, Path, description = "The variant's SKU.")),
    request_body = SetStock,
    responses(
        (status = 200, description = "The SKU's stock now.", body = StockRow),
        (status = 404, description = "`not_found`: not a SKU.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `on_hand` negative or below what is reserved, `reason` missing.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn set_stock(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    Json(body): Json<SetStock>,
) -> Result<Json<StockRow>> {
    let actor = staff(&caller)?;
    sku_path(&sku)?;
    let mut errors = FieldErrors::default();
    if body.on_hand < 0 {
        errors.push("on_hand", FieldCode::OutOfRange, "on hand is not negative");
    }
    if body.low_threshold.is_some_and(|t| t < 0) {
        errors.push("low_threshold", FieldCode::OutOfRange, "a threshold is not negative");
    }
    check_reason(&mut errors, &body.reason);
    errors.finish()?;
    let why = Why { reason: "set", reference: Some(body.reason.trim()), actor: &actor };
    Ok(Json(stock::set_on_hand(&state.pool, &sku, body.on_hand, body.low_threshold, &why).await?))
}

/// `POST /stock/{sku}/adjustments`.
#[utoipa::path(post, path = "/stock/{sku}/adjustments", tag = "inventory", summary = "Add to or remove from a SKU's stock",
    params(("sku" = String, Path, description = "The variant's SKU.")),
    request_body = Adjustment,
    responses(
        (status = 200, description = "The SKU's stock now.", body = StockRow),
        (status = 404, description = "`not_found`: not a SKU.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `delta` zero or taking on hand below what is reserved, `reason` missing.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn adjust_stock(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    Json(body): Json<Adjustment>,
) -> Result<Json<StockRow>> {
    let actor = staff(&caller)?;
    sku_path(&sku)?;
    let mut errors = FieldErrors::default();
    if body.delta == 0 || body.delta.abs() > 1_000_000_000 {
        errors.push("delta", FieldCode::OutOfRange, "a delta is non-zero and at most a billion either way");
    }
    check_reason(&mut errors, &body.reason);
    errors.finish()?;
    let why = Why { reason: "adjust", reference: Some(body.reason.trim()), actor: &actor };
    Ok(Json(stock::adjust(&state.pool, &sku, body.delta, &why).await?))
}

/// A SKU's ledger page.
#[derive(Serialize, ToSchema)]
pub(crate) struct Ledger {
    stock: StockRow,
    /// Newest first.
    movements: Vec<Movement>,
    next_cursor: Option<Uuid>,
}

/// `GET /stock/{sku}/movements`.
#[utoipa::path(get, path = "/stock/{sku}/movements", tag = "inventory", summary = "A SKU's stock and its movements ledger",
    params(
        ("sku" = String, Path, description = "The variant's SKU."),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 50)."),
        ("cursor" = Option<Uuid>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "The totals and the movements that made them, newest first.", body = Ledger),
        (status = 404, description = "`not_found`: no stock is kept for this SKU.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Ledger>> {
    staff(&caller)?;
    sku_path(&sku)?;
    let mut errors = FieldErrors::default();
    let limit = match query.get("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            errors.push("limit", FieldCode::OutOfRange, "limit is 1 to 100");
            50
        }
    };
    let cursor = match query.get("cursor").map(|c| Uuid::parse_str(c)) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            errors.push("cursor", FieldCode::InvalidCursor, "the cursor is not one this API handed out");
            None
        }
    };
    errors.finish()?;
    let stock = store::stock_of(&state.pool, std::slice::from_ref(&sku))
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::UnknownSku)?;
    let mut movements = store::movements(&state.pool, &sku, cursor, limit).await?;
    let next_cursor = if movements.len() as i64 > limit {
        movements.truncate(limit as usize);
        movements.last().map(|m| m.id)
    } else {
        None
    };
    Ok(Json(Ledger { stock, movements, next_cursor }))
}
