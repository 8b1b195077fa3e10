//! VAT rates for staff (permission `taxes:write`): list, set and remove a country's rate of a
//! tax class. A checkout prices its lines at their class's rate for the destination and its
//! shipping at the destination's standard rate; a class without a rate there is charged none.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission, Query};
use utoipa::ToSchema;

use super::AppState;
use crate::app;
use crate::error::Result;
use crate::store::taxes::{self as store, RateView};

/// The rates.
#[derive(Serialize, ToSchema)]
pub(super) struct RateList {
    items: Vec<RateView>,
}

/// `PUT /taxes/rates/{country}/{tax_class}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SetRate {
    /// Basis points, 0 to 10000 (1900 = 19 %).
    rate_bp: i32,
}

/// A country and class from a path, checked: (`DE`, `standard`).
fn key(country: &str, class: &str, errors: &mut FieldErrors) -> (String, String) {
    let country = country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push("country", FieldCode::InvalidValue, "a two-letter country code (ISO 3166-1)");
    }
    let class = class.trim().to_owned();
    let valid = (1..=32).contains(&class.len())
        && class.as_bytes()[0].is_ascii_lowercase()
        && class.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        errors.push("tax_class", FieldCode::InvalidValue, "1 to 32 lower-case letters, digits or _, a letter first");
    }
    (country, class)
}

/// `GET /taxes/rates`.
#[utoipa::path(get, path = "/taxes/rates", tag = "taxes", summary = "VAT rates by country and class (staff)",
    params(("country" = Option<String>, Query, description = "Only this country's.")),
    responses(
        (status = 200, description = "The rates.", body = RateList),
        (status = 403, description = "`forbidden`: needs `taxes:write`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_rates(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<RateList>> {
    caller.require_perm(Permission::TaxesWrite)?;
    let country = query.get("country").map(|c| c.trim().to_ascii_uppercase());
    Ok(Json(RateList { items: store::all(&state.pool, country.as_deref()).await? }))
}

/// `PUT /taxes/rates/{country}/{tax_class}`.
#[utoipa::path(put, path = "/taxes/rates/{country}/{tax_class}", tag = "taxes", summary = "Set a country's VAT rate of a class (staff)",
    description = "Needs `taxes:write`. Applies to checkouts from now on; placed orders and issued invoices keep the rate they were priced at.",
    params(
        ("country" = String, Path, description = "ISO 3166-1 alpha-2, any case."),
        ("tax_class" = String, Path, description = "`standard`, `reduced`, `zero` or another class."),
    ),
    request_body = SetRate,
    responses(
        (status = 200, description = "The rate.", body = RateView),
        (status = 403, description = "`forbidden`: needs `taxes:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `country`, `tax_class`, `rate_bp`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn set_rate(
    State(state): State<AppState>,
    caller: Caller,
    Path((country, class)): Path<(String, String)>,
    Json(body): Json<SetRate>,
) -> Result<Json<RateView>> {
    caller.require_perm(Permission::TaxesWrite)?;
    let mut errors = FieldErrors::default();
    let (country, class) = key(&country, &class, &mut errors);
    if !(0..=10_000).contains(&body.rate_bp) {
        errors.push("rate_bp", FieldCode::OutOfRange, "0 to 10000 basis points");
    }
    errors.finish()?;
    Ok(Json(app::taxes::set(&state.pool, &caller.subject().sub, &country, &class, body.rate_bp).await?))
}

/// `DELETE /taxes/rates/{country}/{tax_class}`.
#[utoipa::path(delete, path = "/taxes/rates/{country}/{tax_class}", tag = "taxes", summary = "Remove a country's VAT rate of a class (staff)",
    description = "That class is charged no VAT in that country from now on.",
    params(
        ("country" = String, Path, description = "ISO 3166-1 alpha-2, any case."),
        ("tax_class" = String, Path, description = "The class."),
    ),
    responses(
        (status = 204, description = "Removed."),
        (status = 403, description = "`forbidden`: needs `taxes:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such rate.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn remove_rate(
    State(state): State<AppState>,
    caller: Caller,
    Path((country, class)): Path<(String, String)>,
) -> Result<StatusCode> {
    caller.require_perm(Permission::TaxesWrite)?;
    let mut errors = FieldErrors::default();
    let (country, class) = key(&country, &class, &mut errors);
    if errors.finish().is_err() {
        return Err(crate::error::ApiError::TaxRateNotFound);
    }
    app::taxes::remove(&state.pool, &caller.subject().sub, &country, &class).await?;
    Ok(StatusCode::NO_CONTENT)
}
