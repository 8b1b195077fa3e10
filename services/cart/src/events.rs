//! What the cart service consumes: ORDER_PAID removes the ordered lines from the shopper's cart;
//! USER_DELETED removes a deleted account's cart.
//! Cart owns no database, so the handler is idempotent by construction (removing lines twice
//! leaves the same cart) and runs under the consumer for such handlers. It emits nothing.

use std::sync::Arc;

use events::catalog::{AuthEvent, OrderEvent};
use events::consumer::HandleFuture;
use events::{Envelope, EventMetrics, Handled, HandlerError, IdempotentHandler};
use service_kit::{Context, NoDatabase, Redis, StartError};

use crate::domain::Owner;
use crate::store::Carts;

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[OrderEvent::DOMAIN, AuthEvent::DOMAIN];

struct PaidLines {
    carts: Carts,
}

impl IdempotentHandler for PaidLines {
    fn handle<'a>(&'a self, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            if let Some(AuthEvent::UserDeleted(deleted)) = AuthEvent::decode(event)? {
                self.carts.clear(&Owner::User(deleted.user_id.into())).await.map_err(HandlerError::new)?;
                return Ok(Handled::Applied);
            }
            let Some(OrderEvent::OrderPaid(paid)) = OrderEvent::decode(event)? else { return Ok(Handled::Ignored) };
            let skus: Vec<contracts::types::Sku> = paid.lines.iter().map(|l| l.sku.clone()).collect();
            // The order's id is a UUID v7: it says when the order was placed from the cart, so
            // a line the shopper added again since then is not taken away.
            let placed_ms = paid.order_id.uuid().get_timestamp().map_or(i64::MAX, |t| {
                let (seconds, nanos) = t.to_unix();
                seconds as i64 * 1000 + i64::from(nanos / 1_000_000)
            });
            self.carts
                .remove_lines(&Owner::User(paid.user_id.into()), &skus, placed_ms)
                .await
                .map_err(HandlerError::new)?;
            Ok(Handled::Applied)
        })
    }
}

/// Starts the consumer of the order's and auth's streams, stopped with the service.
pub(crate) async fn start(context: &mut Context<NoDatabase, Redis>, carts: Carts) -> Result<(), StartError> {
    let config = context.consumer_config(CONSUMES);
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_idempotent_consumer(config, Arc::new(PaidLines { carts }), metrics).await
}
