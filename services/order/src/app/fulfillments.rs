//! Fulfillments as use cases, each one transaction under the order's row lock: staff ship some
//! or all of a paid order's lines (never more of a SKU than was ordered), the order moving
//! `paid → fulfilling` with the first partial shipment and `shipped` with the one that
//! completes it, one ORDER_SHIPPED (one shipping email) per fulfillment; and each fulfillment
//! is delivered on its own, the order once all of them are. Every step is audited.

use contracts::types::{Quantity, Sku};
use events::catalog::{OrderShipped, ShippedLine};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::orders::{audit, moved};
use crate::domain::{Event, Status};
use crate::error::{ApiError, Result};
use crate::store::fulfillments::{self, NewFulfillment};
use crate::store::{self, OrderFacts};

/// What staff hand to a carrier (checked by the route: lines merged by SKU, texts bounded).
pub(crate) struct Shipment<'a> {
    /// `None`: everything not shipped yet.
    pub lines: Option<Vec<(Sku, Quantity)>>,
    pub carrier: &'a str,
    pub tracking_number: &'a str,
    pub tracking_url: Option<&'a str>,
}

/// The lines to ship of an order whose `books` these are: those asked (each within what is
/// left of it), or everything left; the SKUs asked beyond what is left are refused by name.
fn lines_to_ship(
    books: &std::collections::BTreeMap<Sku, fulfillments::Books>,
    asked: Option<Vec<(Sku, Quantity)>>,
) -> Result<Vec<(Sku, Quantity)>> {
    let Some(asked) = asked else {
        return Ok(books
            .iter()
            .filter_map(|(sku, b)| {
                Some((sku.clone(), Quantity::new(b.ordered - b.fulfilled).ok().filter(|q| q.get() > 0)?))
            })
            .collect());
    };
    let unknown: Vec<&Sku> = asked.iter().map(|(sku, _)| sku).filter(|sku| !books.contains_key(*sku)).collect();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown.iter().map(|sku| sku.to_string()).collect();
        return Err(service_kit::Problem::validation(vec![service_kit::FieldError::new(
            "lines",
            service_kit::FieldCode::InvalidValue,
            format!("not in this order: {}", names.join(", ")),
        )])
        .into());
    }
    let over: Vec<Sku> = asked
        .iter()
        .filter(|(sku, quantity)| books.get(sku).is_some_and(|b| b.fulfilled + quantity.get() > b.ordered))
        .map(|(sku, _)| sku.clone())
        .collect();
    if !over.is_empty() {
        return Err(ApiError::FulfillmentExceedsOrder(over));
    }
    Ok(asked)
}

/// The order's facts (number, shopper, email), locked by the caller already.
async fn facts(tx: &mut PgConnection, id: Uuid) -> Result<OrderFacts> {
    store::facts(tx, id).await?.ok_or(ApiError::OrderNotFound)
}

/// Staff ship `shipment` of the order `id` as `actor`; the fulfillment's id.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub(crate) async fn fulfil(pool: &PgPool, actor: &str, id: Uuid, shipment: Shipment<'_>) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let before = store::lock_status(&mut tx, id).await?.ok_or(ApiError::OrderNotFound)?;
    let status = Status::parse(&before).ok_or(ApiError::OrderNotFound)?;
    let books = fulfillments::ordered_and_fulfilled(&mut tx, id).await?;
    let lines = lines_to_ship(&books, shipment.lines)?;
    let shipped = |sku: &Sku| lines.iter().filter(|(s, _)| s == sku).map(|(_, q)| q.get()).sum::<i64>();
    let complete = books.iter().all(|(sku, b)| b.fulfilled + shipped(sku) >= b.ordered);
    if lines.is_empty() {
        return Err(ApiError::InvalidTransition(format!("every line of an order that is {before} has shipped")));
    }
    // The first partial shipment starts fulfilling; the one that completes the order ships it.
    let facts = match (complete, status) {
        (true, _) | (false, Status::Paid) => {
            let event = if complete { Event::Ship } else { Event::StartFulfilment };
            moved(
                store::transition(&mut tx, id, None, event, actor, &format!("shipped with {}", shipment.carrier))
                    .await?,
            )?
        }
        (false, Status::Fulfilling) => facts(&mut tx, id).await?,
        (false, _) => {
            let illegal = crate::domain::next(status, Event::StartFulfilment).err();
            return Err(ApiError::InvalidTransition(illegal.map_or_else(|| before.clone(), |e| e.to_string())));
        }
    };
    let new = NewFulfillment {
        order_id: id,
        lines: &lines,
        carrier: shipment.carrier,
        tracking_number: shipment.tracking_number,
        tracking_url: shipment.tracking_url,
        actor,
    };
    let fulfillment_id = fulfillments::insert(&mut tx, &new).await?;
    let shipped_lines = lines
        .iter()
        .map(|(sku, quantity)| ShippedLine {
            sku: sku.clone(),
            title: books.get(sku).map(|b| b.title.clone()).unwrap_or_default(),
            quantity: *quantity,
        })
        .collect();
    let event = OrderShipped {
        order_id: facts.id.into(),
        number: facts.number,
        user_id: facts.user_id.into(),
        email: facts.contact_email,
        carrier: shipment.carrier.to_owned(),
        tracking_number: shipment.tracking_number.to_owned(),
        fulfillment_id: Some(fulfillment_id),
        lines: shipped_lines,
        tracking_url: shipment.tracking_url.map(str::to_owned),
        complete,
    };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    let after = serde_json::json!({
        "fulfillment_id": fulfillment_id, "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
        "lines": lines.iter().map(|(sku, q)| serde_json::json!({"sku": sku, "quantity": q})).collect::<Vec<_>>(),
        "complete": complete,
    });
    audit(&mut tx, actor, "order.fulfil", id, Some(before), after).await?;
    tx.commit().await?;
    Ok(fulfillment_id)
}

/// Staff record that one fulfillment arrived; the order is delivered (ORDER_DELIVERED) once it
/// has shipped in full and every fulfillment arrived.
#[tracing::instrument(skip_all, fields(order_id = %id, fulfillment_id = %fulfillment_id))]
pub(crate) async fn deliver(pool: &PgPool, actor: &str, id: Uuid, fulfillment_id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = store::lock_status(&mut tx, id).await?.ok_or(ApiError::OrderNotFound)?;
    if !fulfillments::deliver(&mut tx, id, fulfillment_id).await? {
        return Err(ApiError::FulfillmentNotFound);
    }
    let after = serde_json::json!({"fulfillment_id": fulfillment_id, "delivered": true});
    audit(&mut tx, actor, "order.fulfillment_delivered", id, Some(before.clone()), after).await?;
    let (undelivered, _) = fulfillments::undelivered(&mut tx, id).await?;
    if undelivered == 0 && before == Status::Shipped.as_str() {
        super::orders::delivered(&mut tx, actor, id, Some(before)).await?;
    }
    tx.commit().await?;
    Ok(())
}
