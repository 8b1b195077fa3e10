//! HTTP handlers: `/users/me`, its preferences, addresses and push devices. The user is the subject of the
//! internal token; an address id of someone else is simply not found.

pub(crate) mod export;
mod internal;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::{JsonBodyProblems, ProblemSchema, SignInRequired};
use service_kit::{FieldCode, FieldError, FieldErrors, Json, fleet};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain;
use crate::error::{ApiError, Result};
use crate::store::{self, Address, AddressFields, Device, PreferencesPatch, Profile};

/// The routes of `/users/me` with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<PgPool> {
    OpenApiRouter::new()
        .routes(routes!(get_me, patch_me))
        .routes(routes!(get_preferences, patch_preferences))
        .routes(routes!(list_addresses, create_address))
        .routes(routes!(get_address, update_address, delete_address))
        .routes(routes!(list_devices, register_device))
        .routes(routes!(delete_device))
}

/// The routes of `/users/me` and its export (from the gateway) and the internal reads (from
/// order and notification only).
pub(crate) fn router(state: export::ExportState) -> Router {
    let pool = state.pool.clone();
    let public = api()
        .with_state(pool.clone())
        .split_for_parts()
        .0
        .merge(export::api().with_state(state).split_for_parts().0)
        .route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    public.merge(internal::router(pool).route_layer(from_fn(only_from(&[fleet::ORDER, fleet::NOTIFICATION]))))
}

/// The OpenAPI description of the user service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    let mut openapi = api().into_openapi();
    openapi.merge(export::api().into_openapi());
    openapi
}

pub(crate) fn user_id(caller: &Caller) -> Result<Uuid> {
    let subject = caller.subject();
    if subject.is_anonymous() {
        return Err(ApiError::NotSignedIn);
    }
    Uuid::parse_str(&subject.sub).map_err(|_| ApiError::InvalidSubject)
}

/// `GET /users/me`.
#[utoipa::path(get, path = "/users/me", tag = "users", summary = "The signed-in user's profile", security(("bearer" = [])),
    responses((status = 200, description = "The profile (made on first use).", body = Profile), SignInRequired))]
async fn get_me(State(pool): State<PgPool>, caller: Caller) -> Result<Json<Profile>> {
    let user = user_id(&caller)?;
    Ok(Json(store::ensure_profile(&pool, user).await?))
}

/// Profile fields to change; an empty string clears one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfilePatch {
    display_name: Option<String>,
    phone: Option<String>,
}

/// `PATCH /users/me`: `display_name`, `phone` (an empty string clears either).
#[utoipa::path(patch, path = "/users/me", tag = "users", summary = "Change the display name or phone", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "The changed profile.", body = Profile),
        JsonBodyProblems,
        SignInRequired,
        (status = 422, description = "`validation_failed`: `display_name` (`invalid_length`, `invalid_characters`), `phone` (`invalid_phone`), or an unknown field.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn patch_me(
    State(pool): State<PgPool>,
    caller: Caller,
    Json(patch): Json<ProfilePatch>,
) -> Result<Json<Profile>> {
    let user = user_id(&caller)?;
    let display_name = patch.display_name.as_deref().map(|v| domain::optional_text("display_name", Some(v), 100));
    let phone = patch.phone.as_deref().map(|v| domain::phone("phone", Some(v)));
    let mut errors = FieldErrors::default();
    let display_name = errors.check(display_name.transpose()).flatten();
    let phone = errors.check(phone.transpose()).flatten();
    errors.finish()?;
    Ok(Json(store::update_profile(&pool, user, display_name, phone).await?))
}

/// The user's preferences.
#[derive(Serialize, ToSchema)]
pub(crate) struct Preferences {
    locale: String,
    currency: contracts::types::Currency,
    marketing_opt_in: bool,
    notify_email: bool,
    notify_sms: bool,
    notify_push: bool,
}

impl From<Profile> for Preferences {
    fn from(p: Profile) -> Self {
        Self {
            locale: p.locale,
            currency: p.currency,
            marketing_opt_in: p.marketing_opt_in,
            notify_email: p.notify_email,
            notify_sms: p.notify_sms,
            notify_push: p.notify_push,
        }
    }
}

/// `GET /users/me/preferences`.
#[utoipa::path(get, path = "/users/me/preferences", tag = "users", summary = "The user's preferences", security(("bearer" = [])),
    responses((status = 200, description = "Locale, currency and opt-ins.", body = Preferences), SignInRequired))]
async fn get_preferences(State(pool): State<PgPool>, caller: Caller) -> Result<Json<Preferences>> {
    let user = user_id(&caller)?;
    Ok(Json(store::ensure_profile(&pool, user).await?.into()))
}

/// Preferences to change; the others stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreferencesBody {
    locale: Option<String>,
    currency: Option<String>,
    marketing_opt_in: Option<bool>,
    notify_email: Option<bool>,
    notify_sms: Option<bool>,
    notify_push: Option<bool>,
}

/// `PATCH /users/me/preferences`: any subset of the preferences.
#[utoipa::path(patch, path = "/users/me/preferences", tag = "users", summary = "Change some preferences", security(("bearer" = [])),
    request_body = PreferencesBody,
    responses(
        (status = 200, description = "The preferences now.", body = Preferences),
        JsonBodyProblems,
        SignInRequired,
        (status = 422, description = "`validation_failed`: `locale` (`invalid_locale`), `currency` (`invalid_currency`), or an unknown field.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn patch_preferences(
    State(pool): State<PgPool>,
    caller: Caller,
    Json(body): Json<PreferencesBody>,
) -> Result<Json<Preferences>> {
    let user = user_id(&caller)?;
    let mut errors = FieldErrors::default();
    let locale = errors.check(body.locale.as_deref().map(domain::locale).transpose()).flatten();
    let currency = errors.check(body.currency.as_deref().map(domain::currency).transpose()).flatten();
    errors.finish()?;
    let patch = PreferencesPatch {
        locale,
        currency,
        marketing_opt_in: body.marketing_opt_in,
        notify_email: body.notify_email,
        notify_sms: body.notify_sms,
        notify_push: body.notify_push,
    };
    Ok(Json(store::update_preferences(&pool, user, patch).await?.into()))
}

/// An address's fields: all required ones on create, any subset on change.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddressBody {
    label: Option<String>,
    recipient_name: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    phone: Option<String>,
    is_default_shipping: Option<bool>,
    is_default_billing: Option<bool>,
}

impl AddressBody {
    /// Fields not given keep the value of `base` (a PATCH), or are missing (a POST); every
    /// invalid field is named at once.
    fn validate(self, base: Option<&Address>) -> Result<AddressFields> {
        let mut errors = FieldErrors::default();
        let mut required = |field: &'static str, given: Option<String>, current: Option<&String>, max: usize| {
            let value = match given.or(current.cloned()) {
                Some(v) => domain::text(field, &v, max),
                None => Err(FieldError::new(field, FieldCode::Required, "this field is required")),
            };
            errors.check(value)
        };
        let recipient_name = required("recipient_name", self.recipient_name, base.map(|b| &b.recipient_name), 100);
        let line1 = required("line1", self.line1, base.map(|b| &b.line1), 200);
        let city = required("city", self.city, base.map(|b| &b.city), 100);
        let postal_code = required("postal_code", self.postal_code, base.map(|b| &b.postal_code), 16);
        let country = errors.check(match self.country.or(base.map(|b| b.country.clone())) {
            Some(c) => domain::country(&c),
            None => Err(FieldError::new("country", FieldCode::Required, "this field is required")),
        });
        let mut optional =
            |field: &'static str, given: Option<String>, current: Option<&Option<String>>, max: usize| {
                let value = match given {
                    Some(v) => domain::optional_text(field, Some(&v), max),
                    None => Ok(current.cloned().flatten()),
                };
                errors.check(value).flatten()
            };
        let label = optional("label", self.label, base.map(|b| &b.label), 50);
        let line2 = optional("line2", self.line2, base.map(|b| &b.line2), 200);
        let region = optional("region", self.region, base.map(|b| &b.region), 100);
        let phone = errors.check(match self.phone {
            Some(p) => domain::phone("phone", Some(&p)),
            None => Ok(base.and_then(|b| b.phone.clone())),
        });
        let fields = (|| {
            Some(AddressFields {
                label,
                recipient_name: recipient_name?,
                line1: line1?,
                line2,
                city: city?,
                region,
                postal_code: postal_code?,
                country: country?,
                phone: phone?,
                is_default_shipping: self.is_default_shipping.or(base.map(|b| b.is_default_shipping)).unwrap_or(false),
                is_default_billing: self.is_default_billing.or(base.map(|b| b.is_default_billing)).unwrap_or(false),
            })
        })();
        Ok(errors.finish_with(fields)?)
    }
}

/// `GET /users/me/addresses`.
#[utoipa::path(get, path = "/users/me/addresses", tag = "users", summary = "The user's addresses", security(("bearer" = [])),
    responses((status = 200, description = "Every address of the user.", body = AddressList), SignInRequired))]
async fn list_addresses(State(pool): State<PgPool>, caller: Caller) -> Result<Json<AddressList>> {
    let user = user_id(&caller)?;
    let items = store::list_addresses(&pool, user).await?;
    Ok(Json(AddressList { items }))
}

/// The user's addresses.
#[derive(Serialize, ToSchema)]
pub(crate) struct AddressList {
    items: Vec<Address>,
}

/// `POST /users/me/addresses` → 201.
#[utoipa::path(post, path = "/users/me/addresses", tag = "users", summary = "Add an address", security(("bearer" = [])),
    request_body = AddressBody,
    responses(
        (status = 201, description = "The new address.", body = Address),
        JsonBodyProblems,
        SignInRequired,
        (status = 409, description = "`concurrent_update`: another default change happened at the same time; retry.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named (`required`, `invalid_length`, `invalid_characters`, `invalid_country`, `invalid_phone`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn create_address(State(pool): State<PgPool>, caller: Caller, Json(body): Json<AddressBody>) -> Result<Response> {
    let user = user_id(&caller)?;
    let fields = body.validate(None)?;
    let address = crate::app::add_address(&pool, user, fields).await?;
    Ok((StatusCode::CREATED, Json(address)).into_response())
}

/// `GET /users/me/addresses/{id}`.
#[utoipa::path(get, path = "/users/me/addresses/{id}", tag = "users", summary = "One of the user's addresses", security(("bearer" = [])),
    params(("id" = String, Path, description = "The address id.")),
    responses(
        (status = 200, description = "The address.", body = Address),
        SignInRequired,
        (status = 404, description = "`not_found`: no such address of this user (another user's included).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_address(State(pool): State<PgPool>, caller: Caller, Path(id): Path<String>) -> Result<Json<Address>> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::AddressNotFound)?;
    let mut conn = pool.acquire().await?;
    store::get_address(&mut conn, user, id).await?.map(Json).ok_or(ApiError::AddressNotFound)
}

/// `PATCH /users/me/addresses/{id}`: any subset of the fields.
#[utoipa::path(patch, path = "/users/me/addresses/{id}", tag = "users", summary = "Change an address", security(("bearer" = [])),
    params(("id" = String, Path, description = "The address id.")),
    request_body = AddressBody,
    responses(
        (status = 200, description = "The changed address.", body = Address),
        JsonBodyProblems,
        SignInRequired,
        (status = 404, description = "`not_found`: no such address of this user.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`concurrent_update`: retry.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn update_address(
    State(pool): State<PgPool>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<AddressBody>,
) -> Result<Json<Address>> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::AddressNotFound)?;
    let updated = crate::app::change_address(&pool, user, id, |current| body.validate(Some(current))).await?;
    Ok(Json(updated))
}

/// `DELETE /users/me/addresses/{id}` → 204.
#[utoipa::path(delete, path = "/users/me/addresses/{id}", tag = "users", summary = "Delete an address", security(("bearer" = [])),
    params(("id" = String, Path, description = "The address id.")),
    responses(
        (status = 204, description = "Deleted."),
        SignInRequired,
        (status = 404, description = "`not_found`: no such address of this user.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn delete_address(State(pool): State<PgPool>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::AddressNotFound)?;
    if store::delete_address(&pool, user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::AddressNotFound)
    }
}

/// `POST /users/me/devices`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDevice {
    /// The device's push registration token (FCM), 1 to 512 visible characters.
    token: String,
    /// `android`, `ios` or `web`.
    platform: String,
}

/// `GET /users/me/devices`.
#[utoipa::path(get, path = "/users/me/devices", tag = "users", summary = "The devices that receive push notifications", security(("bearer" = [])),
    responses((status = 200, description = "Newest first (tokens are not shown).", body = Vec<Device>), SignInRequired))]
async fn list_devices(State(pool): State<PgPool>, caller: Caller) -> Result<Json<Vec<Device>>> {
    let user = user_id(&caller)?;
    Ok(Json(store::list_devices(&pool, user).await?))
}

/// `POST /users/me/devices`.
#[utoipa::path(post, path = "/users/me/devices", tag = "users", summary = "Register a device for push notifications", security(("bearer" = [])),
    description = "Order messages go to every registered device when `notify_push` is on in the preferences. Registering a known token again changes nothing; a user keeps the ten newest devices.",
    request_body = NewDevice,
    responses(
        (status = 201, description = "Registered.", body = Device),
        (status = 200, description = "Already registered.", body = Device),
        JsonBodyProblems,
        SignInRequired,
        (status = 422, description = "`validation_failed`: `token` or `platform`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn register_device(State(pool): State<PgPool>, caller: Caller, Json(body): Json<NewDevice>) -> Result<Response> {
    let user = user_id(&caller)?;
    let mut errors = FieldErrors::default();
    let token = body.token.trim();
    if token.is_empty() || token.len() > 512 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        errors.push("token", FieldCode::InvalidValue, "1 to 512 visible characters");
    }
    if !["android", "ios", "web"].contains(&body.platform.as_str()) {
        errors.push("platform", FieldCode::InvalidValue, "android, ios or web");
    }
    errors.finish()?;
    let (device, created) = crate::app::register_device(&pool, user, token, &body.platform).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(device)).into_response())
}

/// `DELETE /users/me/devices/{id}`.
#[utoipa::path(delete, path = "/users/me/devices/{id}", tag = "users", summary = "Stop pushing to a device", security(("bearer" = [])),
    params(("id" = String, Path, description = "The device id.")),
    responses(
        (status = 204, description = "Forgotten."),
        SignInRequired,
        (status = 404, description = "`not_found`: no such device of this user.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn delete_device(State(pool): State<PgPool>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::DeviceNotFound)?;
    if store::delete_device(&pool, user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::DeviceNotFound)
    }
}
