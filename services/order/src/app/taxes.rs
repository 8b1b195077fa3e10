//! VAT rates as use cases: staff set and remove a rate (audited with the rate before and after,
//! in the change's transaction), and a checkout reads its destination's rates.

use sqlx::{PgConnection, PgPool};

use crate::domain::Pricing;
use crate::error::{ApiError, Result};
use crate::store::taxes::{self as store, RateView};

async fn audit(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    key: &str,
    before: Option<&RateView>,
    after: Option<&RateView>,
) -> Result<()> {
    let view = |r: Option<&RateView>| r.and_then(|r| serde_json::to_value(r).ok());
    let entry = events::audit::AuditRecorded::new(actor, action, format!("tax_rate:{key}"), view(before), view(after));
    events::audit::record(tx, crate::SERVICE, &entry).await?;
    Ok(())
}

/// Sets `country`'s rate of `class` (checked by the route) as `actor`.
#[tracing::instrument(skip_all, fields(country = %country, tax_class = %class))]
pub(crate) async fn set(pool: &PgPool, actor: &str, country: &str, class: &str, rate_bp: i32) -> Result<RateView> {
    let mut tx = pool.begin().await?;
    let before = store::lock(&mut tx, country, class).await?;
    let after = store::set(&mut tx, country, class, rate_bp).await?;
    audit(&mut tx, actor, "tax_rate.set", &format!("{country}/{class}"), before.as_ref(), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes `country`'s rate of `class`: that class is charged no VAT there from now on.
#[tracing::instrument(skip_all, fields(country = %country, tax_class = %class))]
pub(crate) async fn remove(pool: &PgPool, actor: &str, country: &str, class: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = store::lock(&mut tx, country, class).await?.ok_or(ApiError::TaxRateNotFound)?;
    store::delete(&mut tx, country, class).await?;
    audit(&mut tx, actor, "tax_rate.delete", &format!("{country}/{class}"), Some(&before), None).await?;
    tx.commit().await?;
    Ok(())
}

/// The rates a checkout to `country` is priced at.
pub(crate) async fn pricing_for(pool: &PgPool, country: &str) -> sqlx::Result<Pricing> {
    Ok(Pricing { rates: store::rates_for(&mut *pool.acquire().await?, country).await? })
}
