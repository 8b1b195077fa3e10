//! The SQL of sessions: refresh-token families (one per login) and their tokens, stored hashed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Inserts a family (a login) that ends at the latest `absolute_secs` from now.
pub(crate) async fn insert_family(
    tx: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    absolute_secs: i64,
    user_agent: Option<&str>,
    client_ip: Option<&str>,
    admin: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into refresh_families (id, user_id, absolute_expires_at, user_agent, client_ip, admin) \
         values ($1, $2, now() + make_interval(secs => $3), $4, $5, $6)",
    )
    .bind(family_id)
    .bind(user_id)
    .bind(absolute_secs as f64)
    .bind(user_agent)
    .bind(client_ip)
    .bind(admin)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts a token of the family, living `ttl_secs` but never past the family's end; returns
/// when it expires.
pub(crate) async fn insert_token(
    tx: &mut PgConnection,
    family_id: Uuid,
    token_hash: &[u8],
    ttl_secs: i64,
) -> sqlx::Result<DateTime<Utc>> {
    sqlx::query_scalar(
        "insert into refresh_tokens (token_hash, family_id, expires_at) \
         select $1, f.id, least(now() + make_interval(secs => $3), f.absolute_expires_at) from refresh_families f where f.id = $2 \
         returning expires_at",
    )
    .bind(token_hash)
    .bind(family_id)
    .bind(ttl_secs as f64)
    .fetch_one(&mut *tx)
    .await
}

/// A presented refresh token with the state of its family.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub expired: bool,
    pub rotated: bool,
    /// Rotated within the reuse grace (a second tab refreshing at the same moment).
    pub rotated_recently: bool,
    pub revoked: bool,
    pub admin: bool,
}

/// The token with this hash, locked with its family until the transaction ends, so two
/// concurrent refreshes with one token cannot both succeed.
pub(crate) async fn lock_token(
    tx: &mut PgConnection,
    token_hash: &[u8],
    grace_secs: i64,
) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(
        "select t.family_id, f.user_id, \
                (t.expires_at <= now() or f.absolute_expires_at <= now()) as expired, \
                t.rotated_at is not null as rotated, \
                coalesce(t.rotated_at > now() - make_interval(secs => $2), false) as rotated_recently, \
                f.revoked_at is not null as revoked, f.admin \
         from refresh_tokens t join refresh_families f on f.id = t.family_id \
         where t.token_hash = $1 for update of t, f",
    )
    .bind(token_hash)
    .bind(grace_secs as f64)
    .fetch_optional(&mut *tx)
    .await
}

/// Marks a token used (rotated) and its family used now.
pub(crate) async fn mark_rotated(tx: &mut PgConnection, token_hash: &[u8], family_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update refresh_tokens set rotated_at = now() where token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update refresh_families set last_used_at = now() where id = $1")
        .bind(family_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Revokes a family, whoever owns it (reuse detection).
pub(crate) async fn revoke_family_by_id(tx: &mut PgConnection, family_id: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update refresh_families set revoked_at = now(), revoked_reason = $2 where id = $1 and revoked_at is null",
    )
    .bind(family_id)
    .bind(reason)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}

/// Revokes one family of `user_id` (a family of someone else is left alone).
pub(crate) async fn revoke_family(pool: &PgPool, user_id: Uuid, family_id: Uuid, reason: &str) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "update refresh_families set revoked_at = now(), revoked_reason = $3 where id = $1 and user_id = $2 and revoked_at is null",
    )
    .bind(family_id)
    .bind(user_id)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every family of a user but `keep`; returns the ids of those that were active.
pub(crate) async fn revoke_others(
    tx: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "update refresh_families set revoked_at = now(), revoked_reason = $3 \
         where user_id = $1 and revoked_at is null and ($2::uuid is null or id <> $2) returning id",
    )
    .bind(user_id)
    .bind(keep)
    .bind(reason)
    .fetch_all(&mut *tx)
    .await
}

/// Revokes every family of a user; returns how many were active.
pub(crate) async fn revoke_all(tx: &mut PgConnection, user_id: Uuid, reason: &str) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "update refresh_families set revoked_at = now(), revoked_reason = $2 where user_id = $1 and revoked_at is null",
    )
    .bind(user_id)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected())
}

/// An active login as `GET /auth/sessions` shows it.
#[derive(Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    #[sqlx(skip)]
    pub current: bool,
}

/// The user's logins that still have a usable token, most recently used first.
pub(crate) async fn active(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<SessionView>> {
    sqlx::query_as(
        "select id, created_at, last_used_at, absolute_expires_at as expires_at, user_agent, client_ip from refresh_families \
         where user_id = $1 and revoked_at is null and absolute_expires_at > now() \
           and exists (select 1 from refresh_tokens t where t.family_id = refresh_families.id and t.rotated_at is null and t.expires_at > now()) \
         order by last_used_at desc",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}
