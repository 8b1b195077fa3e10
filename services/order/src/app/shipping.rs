//! Shipping zones and methods as use cases: staff create, change and delete them (each change
//! audited with the thing before and after, in its transaction), and a checkout ships its
//! totals with the method the shopper chose, or the first that ships the order.

use chrono::Utc;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Totals;
use crate::domain::shipping::Unavailable;
use crate::error::{ApiError, Result};
use crate::store::shipping::{self as store, MethodFields, MethodView, ZoneFields, ZoneView};

/// Records a staff change in the audit log, in its transaction.
async fn audit<T: Serialize>(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    target: String,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<()> {
    let view = |t: Option<&T>| t.and_then(|t| serde_json::to_value(t).ok());
    let entry = events::audit::AuditRecorded::new(actor, action, target, view(before), view(after));
    events::audit::record(tx, crate::SERVICE, &entry).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(zone = %fields.name))]
pub(crate) async fn create_zone(pool: &PgPool, actor: &str, fields: &ZoneFields<'_>) -> Result<ZoneView> {
    let mut tx = pool.begin().await?;
    let zone = store::insert_zone(&mut tx, fields).await?;
    audit(&mut tx, actor, "shipping_zone.create", format!("shipping_zone:{}", zone.id), None, Some(&zone)).await?;
    tx.commit().await?;
    Ok(zone)
}

#[tracing::instrument(skip_all, fields(zone_id = %id))]
pub(crate) async fn update_zone(pool: &PgPool, actor: &str, id: Uuid, fields: &ZoneFields<'_>) -> Result<ZoneView> {
    let mut tx = pool.begin().await?;
    let before = store::lock_zone(&mut tx, id).await?.ok_or(ApiError::ShippingNotFound("zone"))?;
    let after = store::update_zone(&mut tx, id, fields).await?;
    audit(&mut tx, actor, "shipping_zone.update", format!("shipping_zone:{id}"), Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a zone with its methods (orders keep the snapshot of theirs).
#[tracing::instrument(skip_all, fields(zone_id = %id))]
pub(crate) async fn delete_zone(pool: &PgPool, actor: &str, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = store::lock_zone(&mut tx, id).await?.ok_or(ApiError::ShippingNotFound("zone"))?;
    store::delete_zone(&mut tx, id).await?;
    audit(&mut tx, actor, "shipping_zone.delete", format!("shipping_zone:{id}"), Some(&before), None).await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(zone_id = %fields.zone_id, method = %fields.name))]
pub(crate) async fn create_method(pool: &PgPool, actor: &str, fields: &MethodFields<'_>) -> Result<MethodView> {
    let mut tx = pool.begin().await?;
    let method = store::insert_method(&mut tx, fields).await?;
    let target = format!("shipping_method:{}", method.id);
    audit(&mut tx, actor, "shipping_method.create", target, None, Some(&method)).await?;
    tx.commit().await?;
    Ok(method)
}

#[tracing::instrument(skip_all, fields(method_id = %id))]
pub(crate) async fn update_method(
    pool: &PgPool,
    actor: &str,
    id: Uuid,
    fields: &MethodFields<'_>,
) -> Result<MethodView> {
    let mut tx = pool.begin().await?;
    let before = store::lock_method(&mut tx, id).await?.ok_or(ApiError::ShippingNotFound("method"))?;
    let after = store::update_method(&mut tx, id, fields).await?;
    let target = format!("shipping_method:{id}");
    audit(&mut tx, actor, "shipping_method.update", target, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(method_id = %id))]
pub(crate) async fn delete_method(pool: &PgPool, actor: &str, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = store::lock_method(&mut tx, id).await?.ok_or(ApiError::ShippingNotFound("method"))?;
    store::delete_method(&mut tx, id).await?;
    audit(&mut tx, actor, "shipping_method.delete", format!("shipping_method:{id}"), Some(&before), None).await?;
    tx.commit().await?;
    Ok(())
}

/// A method's delivery estimate and price for one cart or order, as a shopper sees it.
#[derive(Clone, Debug)]
pub(crate) struct Offer {
    pub method: MethodView,
    pub fee_minor: i64,
}

/// The methods that ship `totals` (lines weighing `weight_grams`) to `country` now, each with
/// its fee, in the order shoppers see them.
#[tracing::instrument(skip_all, fields(country = %country))]
pub(crate) async fn offers(pool: &PgPool, totals: &Totals, country: &str, weight_grams: i64) -> Result<Vec<Offer>> {
    let methods = store::methods_for(&mut *pool.acquire().await?, country).await?;
    let now = Utc::now();
    Ok(methods
        .into_iter()
        .filter_map(|method| {
            let fee_minor = method.rule().fee(now, weight_grams, totals.discounted_minor()).ok()?;
            Some(Offer { method, fee_minor })
        })
        .collect())
}

/// `totals` shipped to `country` by the method `chosen` (or, when none is, the first that ships
/// them), with that method; `shipping_unavailable` naming the chosen one when it does not.
#[tracing::instrument(skip_all, fields(country = %country))]
pub(crate) async fn ship(
    pool: &PgPool,
    totals: Totals,
    country: &str,
    chosen: Option<Uuid>,
    weight_grams: i64,
) -> Result<(Totals, MethodView)> {
    let mut conn = pool.acquire().await?;
    let methods = store::methods_for(&mut conn, country).await?;
    let now = Utc::now();
    let Some(id) = chosen else {
        return methods
            .into_iter()
            .find_map(|method| Some((totals.clone().ship(&method.rule(), now, weight_grams).ok()?, method)))
            .ok_or_else(|| ApiError::ShippingUnavailable {
                method: None,
                detail: format!("no shipping method ships this order to {country}"),
            });
    };
    let refused = |detail: String| ApiError::ShippingUnavailable { method: Some(id), detail };
    let Some(method) = methods.into_iter().find(|method| method.id == id) else {
        return Err(match store::method(&mut conn, id).await? {
            Some(other) => refused(format!("{} does not ship to {country}", other.name)),
            None => refused("the shipping method chosen no longer exists".to_owned()),
        });
    };
    match totals.ship(&method.rule(), now, weight_grams) {
        Ok(shipped) => Ok((shipped, method)),
        Err(Unavailable::NotOffered) => Err(refused(format!("{} is not offered now", method.name))),
        Err(Unavailable::OutOfBands) => {
            Err(refused(format!("{} does not take an order this heavy or this large", method.name)))
        }
    }
}
