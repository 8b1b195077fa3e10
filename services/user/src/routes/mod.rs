//! HTTP handlers: `/users/me`, its preferences and addresses. The user is the subject of the
//! internal token; an address id of someone else is simply not found.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::{Code, FieldCode, FieldError, Json, Problem};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain;
use crate::store::{self, Address, AddressFields, PreferencesPatch, Profile};

fn user_id(caller: &Caller) -> Result<Uuid, Problem> {
    let subject = caller.subject();
    if subject.is_anonymous() {
        return Err(Problem::new(Code::TokenMissing, "sign in to see your account"));
    }
    Uuid::parse_str(&subject.sub)
        .map_err(|_| Problem::new(Code::TokenInvalidSubject, "the token's subject is not a user"))
}

fn db(error: sqlx::Error) -> Problem {
    // Two requests making different addresses the default at the same moment: the partial
    // unique index keeps one default, the loser hears it and may retry.
    if let sqlx::Error::Database(e) = &error
        && matches!(e.constraint(), Some("addresses_one_default_shipping" | "addresses_one_default_billing"))
    {
        return Problem::new(
            Code::ConcurrentUpdate,
            "another change to your default address happened at the same time; try again",
        );
    }
    Problem::internal(&error)
}

fn collect<T>(results: Vec<Result<T, FieldError>>) -> Result<Vec<T>, Problem> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(v) => values.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(Problem::validation(errors)) }
}

/// `GET /users/me`.
pub async fn get_me(State(pool): State<PgPool>, caller: Caller) -> Result<Json<Profile>, Problem> {
    let user = user_id(&caller)?;
    store::ensure_profile(&pool, user).await.map(Json).map_err(db)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    display_name: Option<String>,
    phone: Option<String>,
}

/// `PATCH /users/me`: `display_name`, `phone` (an empty string clears either).
pub async fn patch_me(
    State(pool): State<PgPool>,
    caller: Caller,
    Json(patch): Json<ProfilePatch>,
) -> Result<Json<Profile>, Problem> {
    let user = user_id(&caller)?;
    let display_name = patch.display_name.as_deref().map(|v| domain::optional_text("display_name", Some(v), 100));
    let phone = patch.phone.as_deref().map(|v| domain::phone("phone", Some(v)));
    let mut errors = Vec::new();
    let display_name = display_name.transpose().map_err(|e| errors.push(e)).ok().flatten();
    let phone = phone.transpose().map_err(|e| errors.push(e)).ok().flatten();
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    store::update_profile(&pool, user, display_name, phone).await.map(Json).map_err(db)
}

#[derive(Serialize)]
pub struct Preferences {
    locale: String,
    currency: String,
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
pub async fn get_preferences(State(pool): State<PgPool>, caller: Caller) -> Result<Json<Preferences>, Problem> {
    let user = user_id(&caller)?;
    store::ensure_profile(&pool, user).await.map(|p| Json(p.into())).map_err(db)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    locale: Option<String>,
    currency: Option<String>,
    marketing_opt_in: Option<bool>,
    notify_email: Option<bool>,
    notify_sms: Option<bool>,
    notify_push: Option<bool>,
}

/// `PATCH /users/me/preferences`: any subset of the preferences.
pub async fn patch_preferences(
    State(pool): State<PgPool>,
    caller: Caller,
    Json(body): Json<PreferencesBody>,
) -> Result<Json<Preferences>, Problem> {
    let user = user_id(&caller)?;
    let locale = body.locale.as_deref().map(domain::locale).transpose();
    let currency = body.currency.as_deref().map(domain::currency).transpose();
    let (locale, currency) = match (locale, currency) {
        (Ok(l), Ok(c)) => (l, c),
        (l, c) => return Err(Problem::validation(l.err().into_iter().chain(c.err()).collect())),
    };
    let patch = PreferencesPatch {
        locale,
        currency,
        marketing_opt_in: body.marketing_opt_in,
        notify_email: body.notify_email,
        notify_sms: body.notify_sms,
        notify_push: body.notify_push,
    };
    store::update_preferences(&pool, user, patch).await.map(|p| Json(p.into())).map_err(db)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
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
    /// Fields not given keep the value of `base` (a PATCH), or are missing (a POST).
    fn validate(self, base: Option<&Address>) -> Result<AddressFields, Problem> {
        let required = |field: &'static str, given: Option<String>, current: Option<&String>, max: usize| match given
            .or(current.cloned())
        {
            Some(v) => domain::text(field, &v, max),
            None => Err(FieldError::new(field, FieldCode::Required, "this field is required")),
        };
        let texts = collect(vec![
            required("recipient_name", self.recipient_name, base.map(|b| &b.recipient_name), 100),
            required("line1", self.line1, base.map(|b| &b.line1), 200),
            required("city", self.city, base.map(|b| &b.city), 100),
            required("postal_code", self.postal_code, base.map(|b| &b.postal_code), 16),
            match self.country.or(base.map(|b| b.country.clone())) {
                Some(c) => domain::country(&c),
                None => Err(FieldError::new("country", FieldCode::Required, "this field is required")),
            },
        ]);
        let optional =
            |field: &'static str, given: Option<String>, current: Option<&Option<String>>, max: usize| match given {
                Some(v) => domain::optional_text(field, Some(&v), max),
                None => Ok(current.cloned().flatten()),
            };
        let optionals = collect(vec![
            optional("label", self.label, base.map(|b| &b.label), 50),
            optional("line2", self.line2, base.map(|b| &b.line2), 200),
            optional("region", self.region, base.map(|b| &b.region), 100),
            match self.phone {
                Some(p) => domain::phone("phone", Some(&p)),
                None => Ok(base.and_then(|b| b.phone.clone())),
            },
        ]);
        let (texts, optionals) = match (texts, optionals) {
            (Ok(t), Ok(o)) => (t, o),
            (t, o) => {
                let mut errors = Vec::new();
                for problem in [t.err(), o.err()].into_iter().flatten() {
                    errors.extend(problem.errors().iter().cloned());
                }
                return Err(Problem::validation(errors));
            }
        };
        let [recipient_name, line1, city, postal_code, country]: [String; 5] = texts.try_into().expect("five fields");
        let [label, line2, region, phone]: [Option<String>; 4] = optionals.try_into().expect("four fields");
        Ok(AddressFields {
            label,
            recipient_name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
            phone,
            is_default_shipping: self.is_default_shipping.or(base.map(|b| b.is_default_shipping)).unwrap_or(false),
            is_default_billing: self.is_default_billing.or(base.map(|b| b.is_default_billing)).unwrap_or(false),
        })
    }
}

fn no_such_address() -> Problem {
    Problem::not_found("no such address")
}

/// `GET /users/me/addresses`.
pub async fn list_addresses(State(pool): State<PgPool>, caller: Caller) -> Result<Json<serde_json::Value>, Problem> {
    let user = user_id(&caller)?;
    let items = store::list_addresses(&pool, user).await.map_err(db)?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// `POST /users/me/addresses` → 201.
pub async fn create_address(
    State(pool): State<PgPool>,
    caller: Caller,
    Json(body): Json<AddressBody>,
) -> Result<Response, Problem> {
    let user = user_id(&caller)?;
    let fields = body.validate(None)?;
    let mut tx = pool.begin().await.map_err(db)?;
    let address = store::insert_address(&mut tx, user, fields).await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, Json(address)).into_response())
}

/// `GET /users/me/addresses/{id}`.
pub async fn get_address(
    State(pool): State<PgPool>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Address>, Problem> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| no_such_address())?;
    let mut conn = pool.acquire().await.map_err(db)?;
    store::get_address(&mut conn, user, id).await.map_err(db)?.map(Json).ok_or_else(no_such_address)
}

/// `PATCH /users/me/addresses/{id}`: any subset of the fields.
pub async fn update_address(
    State(pool): State<PgPool>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<AddressBody>,
) -> Result<Json<Address>, Problem> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| no_such_address())?;
    let mut tx = pool.begin().await.map_err(db)?;
    store::lock_user(&mut tx, user).await.map_err(db)?;
    let current = store::get_address(&mut tx, user, id).await.map_err(db)?.ok_or_else(no_such_address)?;
    let fields = body.validate(Some(&current))?;
    let updated = store::update_address(&mut tx, user, id, fields).await.map_err(db)?.ok_or_else(no_such_address)?;
    tx.commit().await.map_err(db)?;
    Ok(Json(updated))
}

/// `DELETE /users/me/addresses/{id}` → 204.
pub async fn delete_address(
    State(pool): State<PgPool>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let user = user_id(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| no_such_address())?;
    if store::delete_address(&pool, user, id).await.map_err(db)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such_address())
    }
}
