//! What the analytics service consumes: the domain events of orders, payments, the catalog,
//! users and stock. Each is logged (without its secret or personal fields) and moves its rollup
//! in the consumer's transaction, with the processed-event record, so a redelivered event
//! counts once. It emits nothing.

use contracts::types::Amount;
use events::catalog::{AuthEvent, InventoryEvent, OrderEvent, PaymentEvent, ProductEvent};
use events::consumer::HandleFuture;
use events::{Envelope, Event, Handled, Handler};
use sqlx::PgConnection;

use crate::domain;
use crate::store;

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[
    <events::catalog::UserRegistered as Event>::DOMAIN,
    <events::catalog::StockLow as Event>::DOMAIN,
    <events::catalog::OrderPaid as Event>::DOMAIN,
    <events::catalog::PaymentFailed as Event>::DOMAIN,
    <events::catalog::ProductCreated as Event>::DOMAIN,
];

/// Applies domain events to the rollups.
pub(crate) struct Rollups;

impl Handler for Rollups {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            let payload = domain::loggable_payload(&event.event_type, &event.payload);
            store::log_event(tx, event.id, &event.event_type, event.occurred_at, &event.aggregate_id, &payload).await?;
            apply(tx, event).await?;
            Ok(Handled::Applied)
        })
    }
}

/// Moves the rollup an event concerns (most events only go to the log).
async fn apply(tx: &mut PgConnection, event: &Envelope) -> Result<(), events::HandlerError> {
    let day = event.occurred_at.date_naive();
    if let Some(order) = OrderEvent::decode(event)? {
        match order {
            OrderEvent::OrderPaid(paid) => {
                store::add_sales(tx, day, (1, paid.total_minor.minor(), 0, 0, 0)).await?;
                let lines: Vec<_> = paid
                    .lines
                    .iter()
                    .map(|l| {
                        // Bounded prices and quantities: the product fits (else the largest amount).
                        let revenue = l.unit_price_minor.times(l.quantity).map_or(i64::MAX, Amount::minor);
                        (l.sku.to_string(), l.title.clone(), l.quantity.get(), revenue)
                    })
                    .collect();
                store::add_product_sales(tx, day, &lines).await?;
            }
            OrderEvent::OrderRefunded(refund) => {
                store::add_sales(tx, day, (0, 0, 1, refund.amount_minor.minor(), 0)).await?
            }
            _ => {}
        }
    } else if let Some(PaymentEvent::PaymentFailed(_)) = PaymentEvent::decode(event)? {
        store::add_sales(tx, day, (0, 0, 0, 0, 1)).await?;
    } else if let Some(auth) = AuthEvent::decode(event)? {
        match auth {
            AuthEvent::UserRegistered(_) => store::add_customer(tx, day).await?,
            // Raw tracking events no longer name a deleted account (the counts stay).
            AuthEvent::UserDeleted(deleted) => store::forget_user(tx, deleted.user_id.into()).await?,
            _ => {}
        }
    } else if let Some(stock) = InventoryEvent::decode(event)? {
        match stock {
            InventoryEvent::StockLow(low) => {
                store::report_stock(tx, &low.sku, low.available_quantity, Some(low.threshold), event.occurred_at)
                    .await?
            }
            InventoryEvent::StockChanged(changed) => {
                store::report_stock(tx, &changed.sku, changed.available_quantity, None, event.occurred_at).await?
            }
            _ => {}
        }
    } else {
        // Catalog events are only logged for now.
        let _ = ProductEvent::decode(event)?;
    }
    Ok(())
}
