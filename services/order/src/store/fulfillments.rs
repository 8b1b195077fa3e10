//! The statements of fulfillments (schema `orders`): what an order's lines were and what of
//! them went out so far, a fulfillment with its lines, and deliveries. `app::fulfillments` puts
//! them together under the order's row lock.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::types::{Quantity, Sku};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

/// One fulfillment as the order shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct FulfillmentView {
    pub id: Uuid,
    pub lines: Vec<contracts::types::Line>,
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The order's fulfillments as JSON, oldest first, for the order's one-statement read.
pub(crate) const VIEW_COLUMN: &str = "coalesce((select json_agg(json_build_object('id', f.id, \
       'lines', (select coalesce(json_agg(json_build_object('sku', fl.sku, 'quantity', fl.quantity) order by fl.sku), '[]'::json) \
                 from fulfillment_lines fl where fl.fulfillment_id = f.id), \
       'carrier', f.carrier, 'tracking_number', f.tracking_number, 'tracking_url', f.tracking_url, \
       'created_at', f.created_at, 'delivered_at', f.delivered_at) order by f.created_at, f.id) \
     from fulfillments f where f.order_id = o.id), '[]'::json) as fulfillments";

/// One SKU of an order: its title, how many were ordered and how many went out so far.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Books {
    pub title: String,
    pub ordered: i64,
    pub fulfilled: i64,
}

/// Per SKU: what the order holds and what went out so far (read under the order's lock).
pub(crate) async fn ordered_and_fulfilled(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<BTreeMap<Sku, Books>> {
    let rows: Vec<(Sku, String, i64, i64)> = sqlx::query_as(
        "select l.sku, min(l.title), sum(l.quantity)::bigint, \
           coalesce((select sum(fl.quantity) from fulfillment_lines fl join fulfillments f on f.id = fl.fulfillment_id \
                     where f.order_id = $1 and fl.sku = l.sku), 0)::bigint \
         from order_lines l where l.order_id = $1 group by l.sku",
    )
    .bind(order_id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().map(|(sku, title, ordered, fulfilled)| (sku, Books { title, ordered, fulfilled })).collect())
}

/// A new fulfillment of `lines`.
pub(crate) struct NewFulfillment<'a> {
    pub order_id: Uuid,
    pub lines: &'a [(Sku, Quantity)],
    pub carrier: &'a str,
    pub tracking_number: &'a str,
    pub tracking_url: Option<&'a str>,
    pub actor: &'a str,
}

/// Writes a fulfillment with its lines; its id.
pub(crate) async fn insert(tx: &mut PgConnection, new: &NewFulfillment<'_>) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into fulfillments (id, order_id, carrier, tracking_number, tracking_url, actor) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(new.order_id)
    .bind(new.carrier)
    .bind(new.tracking_number)
    .bind(new.tracking_url)
    .bind(new.actor)
    .execute(&mut *tx)
    .await?;
    let (skus, quantities): (Vec<&Sku>, Vec<i32>) =
        new.lines.iter().map(|(sku, quantity)| (sku, i32::try_from(quantity.get()).unwrap_or(i32::MAX))).unzip();
    sqlx::query(
        "insert into fulfillment_lines (fulfillment_id, sku, quantity) select $1, * from unnest($2::text[], $3::int[])",
    )
    .bind(id)
    .bind(skus)
    .bind(quantities)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Marks a fulfillment of the order delivered (once: a second time changes nothing); whether
/// the order has it.
pub(crate) async fn deliver(tx: &mut PgConnection, order_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "update fulfillments set delivered_at = coalesce(delivered_at, now()) where id = $1 and order_id = $2 returning id",
    )
    .bind(id)
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(found.is_some())
}

/// Marks every fulfillment of the order delivered.
pub(crate) async fn deliver_all(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update fulfillments set delivered_at = now() where order_id = $1 and delivered_at is null")
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// How many of the order's fulfillments are not delivered yet, and how many it has.
pub(crate) async fn undelivered(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select count(*) filter (where delivered_at is null), count(*) from fulfillments where order_id = $1",
    )
    .bind(order_id)
    .fetch_one(&mut *tx)
    .await
}
