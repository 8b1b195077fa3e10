//! The signing-key ring's SQL: sealed private keys with their public JWK and activation time.

use auth_jwt::Jwk;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// kid, sealed private key, public JWK, activation time.
pub(crate) type KeyRow = (String, Vec<u8>, sqlx::types::Json<Jwk>, DateTime<Utc>);

/// Whether the ring has no key at all (a fresh deployment).
pub(crate) async fn ring_is_empty(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar("select not exists(select 1 from signing_keys)").fetch_one(pool).await
}

/// Adds a key unless its kid exists.
pub(crate) async fn insert(
    conn: &mut sqlx::PgConnection,
    kid: &str,
    private_sealed: &[u8],
    jwk: &Jwk,
    activates_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into signing_keys (kid, private_sealed, public_jwk, activates_at) values ($1, $2, $3, $4) \
         on conflict (kid) do nothing",
    )
    .bind(kid)
    .bind(private_sealed)
    .bind(sqlx::types::Json(jwk))
    .bind(activates_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every key, oldest activation first.
pub(crate) async fn all(pool: &PgPool) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as("select kid, private_sealed, public_jwk, activates_at from signing_keys order by activates_at, kid")
        .fetch_all(pool)
        .await
}

/// How many keys the ring holds.
pub(crate) async fn count(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from signing_keys").fetch_one(pool).await
}

/// Removes a key (retired long ago, or compromised); returns whether it existed.
pub(crate) async fn delete(pool: &PgPool, kid: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query("delete from signing_keys where kid = $1").bind(kid).execute(pool).await?.rows_affected() == 1)
}
