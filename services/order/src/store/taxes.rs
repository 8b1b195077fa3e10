//! The statements of VAT rates (schema `orders`): a destination's rates by class, and staff's
//! changes to them. `app::taxes` audits the changes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

/// A rate as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct RateView {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `standard`, `reduced`, `zero`, or another class of the shop's.
    pub tax_class: String,
    /// Basis points: 1900 = 19 %.
    pub rate_bp: i32,
    pub updated_at: DateTime<Utc>,
}

/// `country`'s rates by class.
pub(crate) async fn rates_for(conn: &mut PgConnection, country: &str) -> sqlx::Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i32)> = sqlx::query_as("select tax_class, rate_bp from tax_rates where country = $1")
        .bind(country)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|(class, rate)| (class, i64::from(rate))).collect())
}

/// Every rate, by country and class (of `country` only, if given).
pub(crate) async fn all(pool: &PgPool, country: Option<&str>) -> sqlx::Result<Vec<RateView>> {
    sqlx::query_as(
        "select country, tax_class, rate_bp, updated_at from tax_rates where ($1::text is null or country = $1) \
         order by country, tax_class",
    )
    .bind(country)
    .fetch_all(pool)
    .await
}

/// The rate of `country` and `class`, locked for a change.
pub(crate) async fn lock(tx: &mut PgConnection, country: &str, class: &str) -> sqlx::Result<Option<RateView>> {
    sqlx::query_as(
        "select country, tax_class, rate_bp, updated_at from tax_rates where country = $1 and tax_class = $2 for update",
    )
    .bind(country)
    .bind(class)
    .fetch_optional(&mut *tx)
    .await
}

/// Sets a rate (made if new); it as it is now.
pub(crate) async fn set(tx: &mut PgConnection, country: &str, class: &str, rate_bp: i32) -> sqlx::Result<RateView> {
    sqlx::query_as(
        "insert into tax_rates (country, tax_class, rate_bp) values ($1, $2, $3) \
         on conflict (country, tax_class) do update set rate_bp = excluded.rate_bp, updated_at = now() \
         returning country, tax_class, rate_bp, updated_at",
    )
    .bind(country)
    .bind(class)
    .bind(rate_bp)
    .fetch_one(&mut *tx)
    .await
}

pub(crate) async fn delete(tx: &mut PgConnection, country: &str, class: &str) -> sqlx::Result<()> {
    sqlx::query("delete from tax_rates where country = $1 and tax_class = $2")
        .bind(country)
        .bind(class)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
