//! The internal routes for order and notification (`contracts::user`): an address of a shopper
//! (only theirs: another's id is a 404) and their contact details.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use contracts::user::{ADDRESS_PATH, CONTACT_PATH, Contact, PostalAddress};
use service_kit::Json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::store;

pub(super) fn router(pool: PgPool) -> Router {
    Router::new().route(ADDRESS_PATH, get(address)).route(CONTACT_PATH, get(contact)).with_state(pool)
}

fn id(raw: &str, missing: ApiError) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| missing)
}

/// `GET /internal/users/{user_id}/addresses/{address_id}`.
async fn address(
    State(pool): State<PgPool>,
    Path((user_id, address_id)): Path<(String, String)>,
) -> Result<Json<PostalAddress>> {
    let user_id = id(&user_id, ApiError::AddressNotFound)?;
    let address_id = id(&address_id, ApiError::AddressNotFound)?;
    let mut conn = pool.acquire().await?;
    let found = store::get_address(&mut conn, user_id, address_id).await?.ok_or(ApiError::AddressNotFound)?;
    Ok(Json(PostalAddress {
        recipient_name: found.recipient_name,
        line1: found.line1,
        line2: found.line2,
        city: found.city,
        region: found.region,
        postal_code: found.postal_code,
        country: found.country,
        phone: found.phone,
    }))
}

/// `GET /internal/users/{user_id}/contact`.
async fn contact(State(pool): State<PgPool>, Path(user_id): Path<String>) -> Result<Json<Contact>> {
    let user_id = id(&user_id, ApiError::ProfileNotFound)?;
    let profile = store::find_profile(&pool, user_id).await?.ok_or(ApiError::ProfileNotFound)?;
    Ok(Json(Contact {
        user_id: user_id.into(),
        email: profile.email,
        email_verified: profile.email_verified,
        phone: profile.phone,
        locale: profile.locale,
        notify_email: profile.notify_email,
        notify_sms: profile.notify_sms,
        notify_push: profile.notify_push,
        push_tokens: store::push_tokens(&pool, user_id).await?,
    }))
}
