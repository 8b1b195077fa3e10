//! SQL of profiles and addresses. Every query is keyed by the caller's user id.

use chrono::{DateTime, Utc};
use contracts::types::Currency;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A user's profile.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct Profile {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub currency: Currency,
    pub marketing_opt_in: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub notify_push: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PROFILE: &str = "user_id, email, email_verified, display_name, phone, locale, currency, marketing_opt_in, \
     notify_email, notify_sms, notify_push, created_at, updated_at";

/// A profile, if the user has one (internal reads; never creates one).
pub(crate) async fn find_profile(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Option<Profile>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {PROFILE} from profiles where user_id = $1")))
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// From USER_REGISTERED: creates the profile, or fills the email of one made on demand.
pub(crate) async fn upsert_from_registration(tx: &mut PgConnection, user_id: Uuid, email: &str) -> sqlx::Result<()> {
    sqlx::query(
        "insert into profiles (user_id, email) values ($1, $2) \
         on conflict (user_id) do update set email = excluded.email where profiles.email is null",
    )
    .bind(user_id)
    .bind(email)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

pub(crate) async fn mark_email_verified(tx: &mut PgConnection, user_id: Uuid, email: &str) -> sqlx::Result<()> {
    sqlx::query(
        "insert into profiles (user_id, email, email_verified) values ($1, $2, true) \
         on conflict (user_id) do update set email_verified = true, email = coalesce(profiles.email, excluded.email)",
    )
    .bind(user_id)
    .bind(email)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Moves a profile to its new (verified) address.
pub(crate) async fn change_email(tx: &mut PgConnection, user_id: Uuid, email: &str) -> sqlx::Result<()> {
    sqlx::query("update profiles set email = $2, email_verified = true, updated_at = now() where user_id = $1")
        .bind(user_id)
        .bind(email)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// Erases a deleted account's profile; its addresses and devices go with it (cascade).
pub(crate) async fn erase(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from profiles where user_id = $1").bind(user_id).execute(&mut *tx).await.map(|_| ())
}

/// The caller's profile, made on demand when the registration event has not arrived yet.
#[tracing::instrument(skip_all)]
pub(crate) async fn ensure_profile(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Profile> {
    sqlx::query("insert into profiles (user_id) values ($1) on conflict (user_id) do nothing")
        .bind(user_id)
        .execute(pool)
        .await?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {PROFILE} from profiles where user_id = $1")))
        .bind(user_id)
        .fetch_one(pool)
        .await
}

/// Changes what is `Some`; `Some(None)` clears a nullable field.
pub(crate) async fn update_profile(
    pool: &PgPool,
    user_id: Uuid,
    display_name: Option<Option<String>>,
    phone: Option<Option<String>>,
) -> sqlx::Result<Profile> {
    ensure_profile(pool, user_id).await?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update profiles set \
           display_name = case when $2 then $3 else display_name end, \
           phone = case when $4 then $5 else phone end \
         where user_id = $1 returning {PROFILE}"
    )))
    .bind(user_id)
    .bind(display_name.is_some())
    .bind(display_name.flatten())
    .bind(phone.is_some())
    .bind(phone.flatten())
    .fetch_one(pool)
    .await
}

/// Preference changes; `None` leaves a preference as it is.
#[derive(Default)]
pub(crate) struct PreferencesPatch {
    pub locale: Option<String>,
    pub currency: Option<String>,
    pub marketing_opt_in: Option<bool>,
    pub notify_email: Option<bool>,
    pub notify_sms: Option<bool>,
    pub notify_push: Option<bool>,
}

pub(crate) async fn update_preferences(pool: &PgPool, user_id: Uuid, patch: PreferencesPatch) -> sqlx::Result<Profile> {
    ensure_profile(pool, user_id).await?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update profiles set locale = coalesce($2, locale), currency = coalesce($3, currency), \
           marketing_opt_in = coalesce($4, marketing_opt_in), notify_email = coalesce($5, notify_email), \
           notify_sms = coalesce($6, notify_sms), notify_push = coalesce($7, notify_push) \
         where user_id = $1 returning {PROFILE}"
    )))
    .bind(user_id)
    .bind(patch.locale)
    .bind(patch.currency)
    .bind(patch.marketing_opt_in)
    .bind(patch.notify_email)
    .bind(patch.notify_sms)
    .bind(patch.notify_push)
    .fetch_one(pool)
    .await
}

/// A postal address of the user.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct Address {
    pub id: Uuid,
    pub label: Option<String>,
    pub recipient_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub phone: Option<String>,
    pub is_default_shipping: bool,
    pub is_default_billing: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ADDRESS: &str = "id, label, recipient_name, line1, line2, city, region, postal_code, country, phone, \
     is_default_shipping, is_default_billing, created_at, updated_at";

/// A validated address.
#[derive(Clone, Debug)]
pub(crate) struct AddressFields {
    pub label: Option<String>,
    pub recipient_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub phone: Option<String>,
    pub is_default_shipping: bool,
    pub is_default_billing: bool,
}

pub(crate) async fn list_addresses(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<Address>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ADDRESS} from addresses where user_id = $1 order by created_at, id"
    )))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

pub(crate) async fn get_address(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> sqlx::Result<Option<Address>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {ADDRESS} from addresses where user_id = $1 and id = $2")))
        .bind(user_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
}

/// Clears the user's other defaults where `fields` claims one, so the new default is the only one.
async fn clear_defaults(tx: &mut PgConnection, user_id: Uuid, keep: Uuid, fields: &AddressFields) -> sqlx::Result<()> {
    sqlx::query(
        "update addresses set \
           is_default_shipping = is_default_shipping and not $3, \
           is_default_billing = is_default_billing and not $4 \
         where user_id = $1 and id <> $2 and ((is_default_shipping and $3) or (is_default_billing and $4))",
    )
    .bind(user_id)
    .bind(keep)
    .bind(fields.is_default_shipping)
    .bind(fields.is_default_billing)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Adds an address; a user's first address becomes their default shipping and billing address.
/// Serializes the address changes of one user (the profile row is the lock), so "first address"
/// and "only one default" hold under concurrent requests.
pub(crate) async fn lock_user(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("insert into profiles (user_id) values ($1) on conflict (user_id) do nothing")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("select 1 from profiles where user_id = $1 for update")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

type AddressQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, Address, sqlx::postgres::PgArguments>;

/// Binds the address columns as `$3` to `$13` (after `user_id` and `id`), in the order both the
/// insert and the update name them.
fn bind_fields<'q>(query: AddressQuery<'q>, fields: &'q AddressFields) -> AddressQuery<'q> {
    query
        .bind(&fields.label)
        .bind(&fields.recipient_name)
        .bind(&fields.line1)
        .bind(&fields.line2)
        .bind(&fields.city)
        .bind(&fields.region)
        .bind(&fields.postal_code)
        .bind(&fields.country)
        .bind(&fields.phone)
        .bind(fields.is_default_shipping)
        .bind(fields.is_default_billing)
}

pub(crate) async fn insert_address(
    tx: &mut PgConnection,
    user_id: Uuid,
    mut fields: AddressFields,
) -> sqlx::Result<Address> {
    lock_user(tx, user_id).await?;
    let first: bool = sqlx::query_scalar("select not exists(select 1 from addresses where user_id = $1)")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    fields.is_default_shipping |= first;
    fields.is_default_billing |= first;
    let id = Uuid::now_v7();
    clear_defaults(tx, user_id, id, &fields).await?;
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into addresses (user_id, id, label, recipient_name, line1, line2, city, region, postal_code, country, phone, \
           is_default_shipping, is_default_billing) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning {ADDRESS}"
    )))
    .bind(user_id)
    .bind(id);
    bind_fields(query, &fields).fetch_one(&mut *tx).await
}

pub(crate) async fn update_address(
    tx: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    fields: AddressFields,
) -> sqlx::Result<Option<Address>> {
    clear_defaults(tx, user_id, id, &fields).await?;
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update addresses set label = $3, recipient_name = $4, line1 = $5, line2 = $6, city = $7, region = $8, \
           postal_code = $9, country = $10, phone = $11, is_default_shipping = $12, is_default_billing = $13 \
         where user_id = $1 and id = $2 returning {ADDRESS}"
    )))
    .bind(user_id)
    .bind(id);
    bind_fields(query, &fields).fetch_optional(&mut *tx).await
}

pub(crate) async fn delete_address(pool: &PgPool, user_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let result = sqlx::query("delete from addresses where user_id = $1 and id = $2")
        .bind(user_id)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// A device that receives push notifications.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct Device {
    pub id: Uuid,
    /// `android`, `ios` or `web`.
    pub platform: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// How many devices a user keeps; registering another lets the oldest go.
pub(crate) const MAX_DEVICES: i64 = 10;

/// The device of this push token if it is `user_id`'s already.
pub(crate) async fn own_device(tx: &mut PgConnection, user_id: Uuid, token: &str) -> sqlx::Result<Option<Device>> {
    sqlx::query_as("select id, platform, created_at from devices where token = $1 and user_id = $2")
        .bind(token)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Records a device's push token for `user_id` (moving it from another user if it was theirs).
pub(crate) async fn upsert_device(
    tx: &mut PgConnection,
    user_id: Uuid,
    token: &str,
    platform: &str,
) -> sqlx::Result<Device> {
    sqlx::query_as(
        "insert into devices (id, user_id, token, platform) values ($1, $2, $3, $4) \
         on conflict (token) do update set user_id = excluded.user_id, platform = excluded.platform, created_at = now() \
         returning id, platform, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(token)
    .bind(platform)
    .fetch_one(&mut *tx)
    .await
}

/// Lets a user's oldest devices go, keeping the newest `keep`.
pub(crate) async fn trim_devices(tx: &mut PgConnection, user_id: Uuid, keep: i64) -> sqlx::Result<()> {
    sqlx::query(
        "delete from devices where user_id = $1 and id not in \
         (select id from devices where user_id = $1 order by created_at desc, id desc limit $2)",
    )
    .bind(user_id)
    .bind(keep)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A user's devices, newest first.
pub(crate) async fn list_devices(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<Device>> {
    sqlx::query_as("select id, platform, created_at from devices where user_id = $1 order by created_at desc, id desc")
        .bind(user_id)
        .fetch_all(pool)
        .await
}

/// Forgets a device of `user_id`; whether it was theirs.
pub(crate) async fn delete_device(pool: &PgPool, user_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let result =
        sqlx::query("delete from devices where user_id = $1 and id = $2").bind(user_id).bind(id).execute(pool).await?;
    Ok(result.rows_affected() == 1)
}

/// The push tokens of a user's devices (for the notification service).
pub(crate) async fn push_tokens(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select token from devices where user_id = $1 order by created_at desc")
        .bind(user_id)
        .fetch_all(pool)
        .await
}
