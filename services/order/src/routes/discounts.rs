//! Discount codes for staff (permission `promotions:write`): create, list, read, change and
//! deactivate. Codes are upper case (shoppers may type any case); a code is never deleted, so
//! the orders that used it keep their meaning.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use contracts::types::Amount;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Code, FieldCode, FieldErrors, Json, Permission, Problem, Query};
use utoipa::ToSchema;

use super::{AppState, page_params};
use crate::app;
use crate::error::{ApiError, Result};
use crate::store::discounts::{self, DiscountView, Settings};

/// `POST /discounts` and `PATCH /discounts/{code}`: what to set (on a change, only what is
/// named; `null` clears an optional limit or date).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscountBody {
    /// 2 to 32 letters, digits, `-` or `_` (stored upper case). Only on create.
    code: Option<String>,
    /// `percent` or `fixed`.
    kind: Option<String>,
    /// `percent`: basis points, 1 to 10000 (1000 = 10 %); `fixed`: minor units, at least 1.
    value: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    starts_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    ends_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>)]
    max_uses: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>)]
    max_uses_per_customer: Option<Option<i32>>,
    min_subtotal_minor: Option<Amount>,
    active: Option<bool>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl DiscountBody {
    /// Checks the fields into settings: on create (`current` is `None`) every required one; on
    /// a change, what the code becomes (the body over `current`) as a whole.
    fn settings(&self, current: Option<&DiscountView>) -> Result<Settings> {
        let mut errors = FieldErrors::default();
        if current.is_none() {
            match &self.code {
                None => errors.push("code", FieldCode::Required, "a code is required"),
                Some(code) if !valid_code(code) => {
                    errors.push("code", FieldCode::InvalidValue, "2 to 32 letters, digits, - or _")
                }
                Some(_) => {}
            }
            if self.kind.is_none() {
                errors.push("kind", FieldCode::Required, "percent or fixed");
            }
            if self.value.is_none() {
                errors.push("value", FieldCode::Required, "basis points or minor units");
            }
        } else if self.code.is_some() {
            errors.push("code", FieldCode::InvalidValue, "a code cannot be renamed; make a new one");
        }
        if let Some(kind) = &self.kind
            && kind != "percent"
            && kind != "fixed"
        {
            errors.push("kind", FieldCode::InvalidValue, "percent or fixed");
        }
        let kind = self.kind.as_deref().or(current.map(|c| c.kind.as_str()));
        if let Some(value) = self.value.or(current.map(|c| c.value))
            && (value < 1 || (kind == Some("percent") && value > 10_000))
        {
            errors.push("value", FieldCode::OutOfRange, "percent: 1 to 10000 basis points; fixed: at least 1");
        }
        for (field, limit) in [("max_uses", self.max_uses), ("max_uses_per_customer", self.max_uses_per_customer)] {
            if limit.flatten().is_some_and(|n| n < 1) {
                errors.push(field, FieldCode::OutOfRange, "at least 1, or null for no limit");
            }
        }
        if let (Some(Some(max)), Some(current)) = (self.max_uses, current)
            && max < current.uses
        {
            errors.push("max_uses", FieldCode::OutOfRange, "below the uses counted so far");
        }
        if self.min_subtotal_minor.is_some_and(Amount::is_negative) {
            errors.push("min_subtotal_minor", FieldCode::OutOfRange, "0 or more");
        }
        let starts = self.starts_at.unwrap_or(current.and_then(|c| c.starts_at));
        let ends = self.ends_at.unwrap_or(current.and_then(|c| c.ends_at));
        if let (Some(starts), Some(ends)) = (starts, ends)
            && starts >= ends
        {
            errors.push("ends_at", FieldCode::OutOfRange, "after starts_at");
        }
        errors.finish()?;
        Ok(Settings {
            kind: self.kind.clone(),
            value: self.value,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            max_uses: self.max_uses,
            max_uses_per_customer: self.max_uses_per_customer,
            min_subtotal_minor: self.min_subtotal_minor.map(Amount::minor),
            active: self.active,
        })
    }
}

fn valid_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && code.as_bytes()[0].is_ascii_alphanumeric()
}

/// A code from a path: upper case; one that cannot exist is simply not found.
fn code_of(raw: &str) -> Result<String> {
    if valid_code(raw) { Ok(raw.to_ascii_uppercase()) } else { Err(ApiError::DiscountNotFound) }
}

/// A page of discount codes.
#[derive(Serialize, ToSchema)]
pub(super) struct DiscountPage {
    items: Vec<DiscountView>,
    next_cursor: Option<String>,
}

/// `POST /discounts`.
#[utoipa::path(post, path = "/discounts", tag = "discounts", summary = "Create a discount code (staff)",
    description = "Needs `promotions:write`. A percentage (basis points) or a fixed amount off the subtotal, with an optional validity window, usage limits per code and per customer, and a minimum subtotal. Shoppers apply it to their cart (`POST /carts/current/discount`); an order counts one use and gives it back if it expires or is cancelled.",
    request_body = DiscountBody,
    responses(
        (status = 201, description = "The code.", body = DiscountView),
        (status = 403, description = "`forbidden`: needs `promotions:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`discount_code_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the fields named.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_discount(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DiscountBody>,
) -> Result<Response> {
    caller.require_perm(Permission::PromotionsWrite)?;
    let settings = body.settings(None)?;
    let code = body.code.as_deref().unwrap_or_default().to_ascii_uppercase();
    let actor = caller.subject().sub.clone();
    let created = app::discounts::create(&state.pool, &actor, &code, &settings).await?;
    let view = created.ok_or_else(|| Problem::new(Code::DiscountCodeTaken, format!("{code} exists already")))?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `GET /discounts`.
#[utoipa::path(get, path = "/discounts", tag = "discounts", summary = "Every discount code, newest first (staff)",
    params(
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of codes.", body = DiscountPage),
        (status = 403, description = "`forbidden`: needs `promotions:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_discounts(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<DiscountPage>> {
    caller.require_perm(Permission::PromotionsWrite)?;
    let mut errors = FieldErrors::default();
    let (limit, after) = page_params(&query, &mut errors);
    errors.finish()?;
    let mut rows = discounts::list(&state.pool, after, limit).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(id, view)| super::cursor(view.created_at, *id))
    } else {
        None
    };
    Ok(Json(DiscountPage { items: rows.into_iter().map(|(_, view)| view).collect(), next_cursor }))
}

/// `GET /discounts/{code}`.
#[utoipa::path(get, path = "/discounts/{code}", tag = "discounts", summary = "A discount code with its uses (staff)",
    params(("code" = String, Path, description = "The code, any case.")),
    responses(
        (status = 200, description = "The code.", body = DiscountView),
        (status = 403, description = "`forbidden`: needs `promotions:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such code.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_discount(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<DiscountView>> {
    caller.require_perm(Permission::PromotionsWrite)?;
    discounts::find(&state.pool, &code_of(&code)?).await?.map(Json).ok_or(ApiError::DiscountNotFound)
}

/// `PATCH /discounts/{code}`.
#[utoipa::path(patch, path = "/discounts/{code}", tag = "discounts", summary = "Change a discount code (staff)",
    description = "Only the fields sent change; `null` clears a date or a limit. Lowering `max_uses` below the uses counted is refused.",
    params(("code" = String, Path, description = "The code, any case.")),
    request_body = DiscountBody,
    responses(
        (status = 200, description = "The code.", body = DiscountView),
        (status = 403, description = "`forbidden`: needs `promotions:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such code.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the fields named (also a limit below the uses so far).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_discount(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<DiscountBody>,
) -> Result<Json<DiscountView>> {
    caller.require_perm(Permission::PromotionsWrite)?;
    let code = code_of(&code)?;
    let current = discounts::find(&state.pool, &code).await?.ok_or(ApiError::DiscountNotFound)?;
    let settings = body.settings(Some(&current))?;
    let actor = caller.subject().sub.clone();
    let updated = app::discounts::update(&state.pool, &actor, "discount.update", &code, &settings).await?;
    updated.map(Json).ok_or(ApiError::DiscountNotFound)
}

/// `DELETE /discounts/{code}`.
#[utoipa::path(delete, path = "/discounts/{code}", tag = "discounts", summary = "Stop offering a discount code (staff)",
    description = "Deactivates it: carts and checkouts refuse it from now on; it stays listed with its uses.",
    params(("code" = String, Path, description = "The code, any case.")),
    responses(
        (status = 200, description = "The code, inactive.", body = DiscountView),
        (status = 403, description = "`forbidden`: needs `promotions:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such code.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn deactivate_discount(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<DiscountView>> {
    caller.require_perm(Permission::PromotionsWrite)?;
    let settings = Settings { active: Some(false), ..Settings::default() };
    let actor = caller.subject().sub.clone();
    let stopped =
        app::discounts::update(&state.pool, &actor, "discount.deactivate", &code_of(&code)?, &settings).await?;
    stopped.map(Json).ok_or(ApiError::DiscountNotFound)
}
