//! Logins as refresh-token families: start one at login, rotate on refresh (detecting reuse),
//! revoke on logout, list the active ones.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::one_time;

/// Lifetimes of refresh tokens.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    /// Each token's lifetime; refreshing slides it.
    pub ttl_secs: i64,
    /// No login lasts longer than this, however often it is refreshed.
    pub absolute_secs: i64,
}

/// A refresh token handed to the client.
pub struct Issued {
    pub family_id: Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Starts a family (a login) with its first token.
pub async fn start_family(
    tx: &mut PgConnection,
    user_id: Uuid,
    policy: RefreshPolicy,
    user_agent: Option<&str>,
    client_ip: Option<&str>,
    admin: bool,
) -> sqlx::Result<Issued> {
    let family_id = Uuid::now_v7();
    sqlx::query(
        "insert into refresh_families (id, user_id, absolute_expires_at, user_agent, client_ip, admin) \
         values ($1, $2, now() + make_interval(secs => $3), $4, $5, $6)",
    )
    .bind(family_id)
    .bind(user_id)
    .bind(policy.absolute_secs as f64)
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
    .bind(client_ip)
    .bind(admin)
    .execute(&mut *tx)
    .await?;
    issue(tx, family_id, policy).await
}

async fn issue(tx: &mut PgConnection, family_id: Uuid, policy: RefreshPolicy) -> sqlx::Result<Issued> {
    let (token, hash) = one_time::generate();
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into refresh_tokens (token_hash, family_id, expires_at) \
         select $1, f.id, least(now() + make_interval(secs => $3), f.absolute_expires_at) from refresh_families f where f.id = $2 \
         returning expires_at",
    )
    .bind(&hash)
    .bind(family_id)
    .bind(policy.ttl_secs as f64)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Issued { family_id, token, expires_at })
}

pub enum Rotation {
    /// The old token is dead; here is its successor.
    Rotated {
        user_id: Uuid,
        issued: Issued,
        /// An admin session (signed in with a second factor).
        admin: bool,
    },
    /// The token had already been rotated: it leaked. Its family is now revoked.
    Reused {
        user_id: Uuid,
        family_id: Uuid,
    },
    Expired,
    Invalid,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    family_id: Uuid,
    user_id: Uuid,
    expired: bool,
    rotated: bool,
    revoked: bool,
    admin: bool,
}

/// Rotates `token`: the one transaction locks the token and its family, so two concurrent
/// refreshes with the same token cannot both succeed.
pub async fn rotate(pool: &PgPool, token: &str, policy: RefreshPolicy) -> sqlx::Result<Rotation> {
    let mut tx = pool.begin().await?;
    let row: Option<TokenRow> = sqlx::query_as(
        "select t.family_id, f.user_id, \
                (t.expires_at <= now() or f.absolute_expires_at <= now()) as expired, \
                t.rotated_at is not null as rotated, f.revoked_at is not null as revoked, f.admin \
         from refresh_tokens t join refresh_families f on f.id = t.family_id \
         where t.token_hash = $1 for update of t, f",
    )
    .bind(one_time::hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(Rotation::Invalid) };
    if row.revoked {
        return Ok(Rotation::Invalid);
    }
    if row.rotated {
        revoke_family_in(&mut tx, row.family_id, "reuse_detected").await?;
        tx.commit().await?;
        return Ok(Rotation::Reused { user_id: row.user_id, family_id: row.family_id });
    }
    if row.expired {
        return Ok(Rotation::Expired);
    }
    sqlx::query("update refresh_tokens set rotated_at = now() where token_hash = $1")
        .bind(one_time::hash(token))
        .execute(&mut *tx)
        .await?;
    sqlx::query("update refresh_families set last_used_at = now() where id = $1")
        .bind(row.family_id)
        .execute(&mut *tx)
        .await?;
    let issued = issue(&mut tx, row.family_id, policy).await?;
    tx.commit().await?;
    Ok(Rotation::Rotated { user_id: row.user_id, issued, admin: row.admin })
}

async fn revoke_family_in(tx: &mut PgConnection, family_id: Uuid, reason: &str) -> sqlx::Result<()> {
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
pub async fn revoke_family(pool: &PgPool, user_id: Uuid, family_id: Uuid, reason: &str) -> sqlx::Result<bool> {
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

/// Revokes every family of a user.
pub async fn revoke_all(tx: &mut PgConnection, user_id: Uuid, reason: &str) -> sqlx::Result<u64> {
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
#[derive(Serialize, sqlx::FromRow)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    #[sqlx(skip)]
    pub current: bool,
}

pub async fn active(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<SessionView>> {
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
