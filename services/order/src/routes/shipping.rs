//! Shipping zones and methods for staff (permission `shipping:write`): list, create, read,
//! replace and delete; and, for everyone, the countries the shop ships to. A zone is a set of countries (or `["*"]`, the rest of the world); a
//! method belongs to one zone and is priced by its rule. Orders keep a snapshot of their
//! method, so neither a change nor a deletion here rewrites one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use contracts::types::Amount;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use crate::app;
use crate::domain::shipping::PriceRule;
use crate::error::{ApiError, Result};
use crate::store::shipping::{self as store, MethodFields, MethodView, ZoneFields, ZoneView};

/// `POST /shipping/zones` and `PUT /shipping/zones/{id}`: the whole zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ZoneBody {
    /// 1 to 100 characters, unique.
    name: String,
    /// ISO 3166-1 alpha-2 codes (any case, stored upper case), 1 to 250 of them; or `["*"]`: the
    /// rest of the world, every country no other zone names (one such zone at most).
    countries: Vec<String>,
}

/// A name or carrier: trimmed, 1 to 100 characters, no control characters.
fn short_text(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
        errors.push(field, FieldCode::InvalidLength, format!("{field} is 1 to 100 characters"));
    }
    value.to_owned()
}

impl ZoneBody {
    fn checked(&self) -> Result<(String, Vec<String>)> {
        let mut errors = FieldErrors::default();
        let name = short_text(&mut errors, "name", &self.name);
        let mut countries: Vec<String> = self.countries.iter().map(|c| c.trim().to_ascii_uppercase()).collect();
        countries.sort_unstable();
        countries.dedup();
        let rest_of_world = countries == ["*"];
        if countries.is_empty() || countries.len() > 250 {
            errors.push("countries", FieldCode::InvalidLength, "1 to 250 countries, or [\"*\"]");
        } else if !rest_of_world && !countries.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            errors.push(
                "countries",
                FieldCode::InvalidValue,
                "two-letter country codes (ISO 3166-1), or [\"*\"] alone",
            );
        }
        errors.finish()?;
        Ok((name, countries))
    }
}

/// `POST /shipping/methods` and `PUT /shipping/methods/{id}`: the whole method.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MethodBody {
    /// The zone it ships to.
    zone_id: Uuid,
    /// 1 to 100 characters, unique in its zone ("Standard", "Express", "Pickup at the store").
    name: String,
    /// 1 to 100 characters ("DHL").
    carrier: String,
    /// The delivery estimate in days: 0 to 365, `min_days` ≤ `max_days`.
    min_days: i32,
    max_days: i32,
    /// `{"rule": "flat", "fee_minor": 490}`, or bands by weight in grams or by subtotal after
    /// discount: `{"rule": "weight", "bands": [{"up_to": 2000, "fee_minor": 490}, {"up_to":
    /// null, "fee_minor": 990}]}` (1 to 20 bands, rising; only the last open; past a closed last
    /// band the method does not ship the order).
    price: PriceRule,
    /// Free from this subtotal (after discount) on.
    #[serde(default)]
    free_from_minor: Option<Amount>,
    /// Default true.
    #[serde(default)]
    active: Option<bool>,
    /// Offered only from, and before, these (each optional).
    #[serde(default)]
    active_from: Option<DateTime<Utc>>,
    #[serde(default)]
    active_until: Option<DateTime<Utc>>,
    /// Where shoppers see it among its zone's methods, 0 to 1000 (default 0, then by name).
    #[serde(default)]
    position: Option<i32>,
}

impl MethodBody {
    /// Every field's problems at once; the fields to write.
    fn checked(&self) -> Result<MethodFields<'_>> {
        let mut errors = FieldErrors::default();
        for (field, value) in [("name", &self.name), ("carrier", &self.carrier)] {
            short_text(&mut errors, field, value);
        }
        if !(0..=365).contains(&self.min_days) {
            errors.push("min_days", FieldCode::OutOfRange, "0 to 365 days");
        }
        if !(0..=365).contains(&self.max_days) || self.max_days < self.min_days {
            errors.push("max_days", FieldCode::OutOfRange, "0 to 365 days, at least min_days");
        }
        if let Some(problem) = self.price.problem() {
            errors.push("price", FieldCode::InvalidValue, problem);
        }
        if self.free_from_minor.is_some_and(Amount::is_negative) {
            errors.push("free_from_minor", FieldCode::OutOfRange, "0 or more");
        }
        if let (Some(from), Some(until)) = (self.active_from, self.active_until)
            && from >= until
        {
            errors.push("active_until", FieldCode::OutOfRange, "after active_from");
        }
        let position = self.position.unwrap_or(0);
        if !(0..=1000).contains(&position) {
            errors.push("position", FieldCode::OutOfRange, "0 to 1000");
        }
        errors.finish()?;
        Ok(MethodFields {
            zone_id: self.zone_id,
            name: self.name.trim(),
            carrier: self.carrier.trim(),
            min_days: self.min_days,
            max_days: self.max_days,
            price: &self.price,
            free_from_minor: self.free_from_minor.map(Amount::minor),
            active: self.active.unwrap_or(true),
            active_from: self.active_from,
            active_until: self.active_until,
            position,
        })
    }
}

/// An id from a path: one that cannot exist is simply not found.
fn id_of(raw: &str, what: &'static str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::ShippingNotFound(what))
}

/// Every shipping zone.
#[derive(Serialize, ToSchema)]
pub(super) struct ZoneList {
    items: Vec<ZoneView>,
}

/// Shipping methods.
#[derive(Serialize, ToSchema)]
pub(super) struct MethodList {
    items: Vec<MethodView>,
}

/// Where the shop ships.
#[derive(Serialize, ToSchema)]
pub(super) struct Countries {
    /// ISO 3166-1 alpha-2 codes some method offered now ships to.
    countries: Vec<String>,
    /// Whether a method offered now ships everywhere else too (the rest of the world).
    everywhere_else: bool,
}

/// `GET /shipping/countries`.
#[utoipa::path(get, path = "/shipping/countries", tag = "shipping", summary = "Where the shop ships",
    description = "Public: the countries at least one shipping method offered now ships to, for a storefront's country picker; `everywhere_else` when the rest of the world has one too. What a cart costs to ship is `GET /carts/current/shipping-methods?country=`.",
    responses((status = 200, description = "The countries.", body = Countries)))]
pub(super) async fn countries(State(state): State<AppState>) -> Result<Json<Countries>> {
    let (countries, everywhere_else) = store::countries_served(&state.pool).await?;
    Ok(Json(Countries { countries, everywhere_else }))
}

/// `GET /shipping/zones`.
#[utoipa::path(get, path = "/shipping/zones", tag = "shipping", summary = "Every shipping zone, by name (staff)",
    responses(
        (status = 200, description = "The zones.", body = ZoneList),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_zones(State(state): State<AppState>, caller: Caller) -> Result<Json<ZoneList>> {
    caller.require_perm(Permission::ShippingWrite)?;
    Ok(Json(ZoneList { items: store::zones(&state.pool).await? }))
}

/// `POST /shipping/zones`.
#[utoipa::path(post, path = "/shipping/zones", tag = "shipping", summary = "Create a shipping zone (staff)",
    description = "Needs `shipping:write`. A set of countries its methods ship to; `[\"*\"]` is the rest of the world (its methods apply where no other zone names the country). A country in several zones gets all their methods.",
    request_body = ZoneBody,
    responses(
        (status = 201, description = "The zone.", body = ZoneView),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`shipping_name_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `name`, `countries` (also a second rest of the world).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_zone(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ZoneBody>,
) -> Result<Response> {
    caller.require_perm(Permission::ShippingWrite)?;
    let (name, countries) = body.checked()?;
    let actor = caller.subject().sub.clone();
    let zone =
        app::shipping::create_zone(&state.pool, &actor, &ZoneFields { name: &name, countries: &countries }).await?;
    Ok((StatusCode::CREATED, Json(zone)).into_response())
}

/// `GET /shipping/zones/{id}`.
#[utoipa::path(get, path = "/shipping/zones/{id}", tag = "shipping", summary = "A shipping zone (staff)",
    params(("id" = Uuid, Path, description = "The zone's id.")),
    responses(
        (status = 200, description = "The zone.", body = ZoneView),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such zone.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_zone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ZoneView>> {
    caller.require_perm(Permission::ShippingWrite)?;
    let id = id_of(&id, "zone")?;
    store::zone(&mut *state.pool.acquire().await?, id).await?.map(Json).ok_or(ApiError::ShippingNotFound("zone"))
}

/// `PUT /shipping/zones/{id}`.
#[utoipa::path(put, path = "/shipping/zones/{id}", tag = "shipping", summary = "Replace a shipping zone (staff)",
    params(("id" = Uuid, Path, description = "The zone's id.")),
    request_body = ZoneBody,
    responses(
        (status = 200, description = "The zone.", body = ZoneView),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such zone.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`shipping_name_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `name`, `countries`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_zone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ZoneBody>,
) -> Result<Json<ZoneView>> {
    caller.require_perm(Permission::ShippingWrite)?;
    let id = id_of(&id, "zone")?;
    let (name, countries) = body.checked()?;
    let actor = caller.subject().sub.clone();
    let fields = ZoneFields { name: &name, countries: &countries };
    Ok(Json(app::shipping::update_zone(&state.pool, &actor, id, &fields).await?))
}

/// `DELETE /shipping/zones/{id}`.
#[utoipa::path(delete, path = "/shipping/zones/{id}", tag = "shipping", summary = "Delete a shipping zone and its methods (staff)",
    description = "Carts that chose one of its methods are refused it at checkout (`shipping_unavailable`); orders keep theirs.",
    params(("id" = Uuid, Path, description = "The zone's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such zone.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn delete_zone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    caller.require_perm(Permission::ShippingWrite)?;
    let id = id_of(&id, "zone")?;
    app::shipping::delete_zone(&state.pool, &caller.subject().sub, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /shipping/methods`.
#[utoipa::path(get, path = "/shipping/methods", tag = "shipping", summary = "Shipping methods, by zone and position (staff)",
    params(("zone_id" = Option<Uuid>, Query, description = "Only this zone's.")),
    responses(
        (status = 200, description = "The methods.", body = MethodList),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `zone_id`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_methods(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<MethodList>> {
    caller.require_perm(Permission::ShippingWrite)?;
    let mut errors = FieldErrors::default();
    let zone = query.get("zone_id").and_then(|raw| match Uuid::parse_str(raw) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push("zone_id", FieldCode::InvalidValue, "a zone id (UUID)");
            None
        }
    });
    errors.finish()?;
    let mut items = store::methods(&state.pool).await?;
    items.retain(|method| zone.is_none_or(|zone| method.zone_id == zone));
    Ok(Json(MethodList { items }))
}

/// `POST /shipping/methods`.
#[utoipa::path(post, path = "/shipping/methods", tag = "shipping", summary = "Create a shipping method (staff)",
    description = "Needs `shipping:write`. Priced flat, by the order's weight (`variants.weight_grams`; none counts as nothing) or by its subtotal after discount, optionally free from a subtotal, offered while `active` and inside its window.",
    request_body = MethodBody,
    responses(
        (status = 201, description = "The method.", body = MethodView),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`shipping_name_taken`: the zone has a method of this name.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the fields named (`zone_id` when there is no such zone).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_method(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<MethodBody>,
) -> Result<Response> {
    caller.require_perm(Permission::ShippingWrite)?;
    let fields = body.checked()?;
    let method = app::shipping::create_method(&state.pool, &caller.subject().sub, &fields).await?;
    Ok((StatusCode::CREATED, Json(method)).into_response())
}

/// `GET /shipping/methods/{id}`.
#[utoipa::path(get, path = "/shipping/methods/{id}", tag = "shipping", summary = "A shipping method (staff)",
    params(("id" = Uuid, Path, description = "The method's id.")),
    responses(
        (status = 200, description = "The method.", body = MethodView),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such method.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MethodView>> {
    caller.require_perm(Permission::ShippingWrite)?;
    let id = id_of(&id, "method")?;
    store::method(&mut *state.pool.acquire().await?, id).await?.map(Json).ok_or(ApiError::ShippingNotFound("method"))
}

/// `PUT /shipping/methods/{id}`.
#[utoipa::path(put, path = "/shipping/methods/{id}", tag = "shipping", summary = "Replace a shipping method (staff)",
    params(("id" = Uuid, Path, description = "The method's id.")),
    request_body = MethodBody,
    responses(
        (status = 200, description = "The method.", body = MethodView),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such method.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`shipping_name_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the fields named.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<MethodBody>,
) -> Result<Json<MethodView>> {
    caller.require_perm(Permission::ShippingWrite)?;
    let id = id_of(&id, "method")?;
    let fields = body.checked()?;
    Ok(Json(app::shipping::update_method(&state.pool, &caller.subject().sub, id, &fields).await?))
}

/// `DELETE /shipping/methods/{id}`.
#[utoipa::path(delete, path = "/shipping/methods/{id}", tag = "shipping", summary = "Delete a shipping method (staff)",
    description = "Carts that chose it are refused it at checkout (`shipping_unavailable`); orders keep theirs.",
    params(("id" = Uuid, Path, description = "The method's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "`forbidden`: needs `shipping:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such method.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn delete_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    caller.require_perm(Permission::ShippingWrite)?;
    let id = id_of(&id, "method")?;
    app::shipping::delete_method(&state.pool, &caller.subject().sub, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
