//! What the product service emits and consumes. It emits PRODUCT_CREATED / PRODUCT_UPDATED /
//! PRODUCT_ARCHIVED (with the product's version) and CATEGORY_CREATED / CATEGORY_UPDATED on
//! `events.product`, through its outbox in the transaction of each write (`store::writes`). It
//! consumes inventory's STOCK_CHANGED to keep `in_stock` of variants and products, so no
//! storefront read ever calls inventory, and the order's ORDER_DELIVERED to record purchases,
//! which mark reviews as verified (a delivered order, not merely a paid one), and the media
//! service's MEDIA_UPLOADED / MEDIA_DELETED to keep the URLs of the images products name, and
//! auth's USER_DELETED to erase a deleted account's reviews, votes and purchases.

use contracts::types::Sku;
use std::sync::Arc;

use events::Event;
use events::catalog::{
    AuthEvent, InventoryEvent, MediaDeleted, MediaEvent, MediaUploaded, OrderDelivered, OrderEvent, StockChanged,
    UserDeleted,
};
use events::consumer::HandleFuture;
use events::{Envelope, EventMetrics, Handled, Handler};
use service_kit::{Context, Redis, StartError};
use sqlx::{PgConnection, PgPool};

use crate::cache::Cache;
use crate::store;

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] =
    &[InventoryEvent::DOMAIN, OrderEvent::DOMAIN, MediaEvent::DOMAIN, AuthEvent::DOMAIN];

/// Applies STOCK_CHANGED to the stock flags and ORDER_DELIVERED to purchases, and invalidates the
/// response cache once a change has committed.
struct StockFlags {
    cache: Cache,
}

impl Handler for StockFlags {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            if let Some(InventoryEvent::StockChanged(e)) = InventoryEvent::decode(event)? {
                let newer = store::stock::apply_stock_changed(tx, e.sku.as_str(), e.available, e.seq).await?;
                return Ok(if newer { Handled::Applied } else { Handled::Ignored });
            }
            if let Some(AuthEvent::UserDeleted(deleted)) = AuthEvent::decode(event)? {
                let reviews = crate::app::reviews::erase_author(tx, deleted.user_id.into()).await?;
                tracing::info!(reviews, "a deleted account's reviews erased");
                return Ok(Handled::Applied);
            }
            if let Some(OrderEvent::OrderDelivered(delivered)) = OrderEvent::decode(event)? {
                let skus: Vec<Sku> = delivered.lines.iter().map(|l| l.sku.clone()).collect();
                store::reviews::record_purchase(tx, delivered.user_id.into(), &skus).await?;
                return Ok(Handled::Applied);
            }
            match MediaEvent::decode(event)? {
                Some(MediaEvent::MediaUploaded(uploaded)) => store::media::uploaded(tx, &uploaded).await?,
                Some(MediaEvent::MediaDeleted(deleted)) => store::media::deleted(tx, deleted.media_id.into()).await?,
                None => return Ok(Handled::Ignored),
            }
            Ok(Handled::Applied)
        })
    }

    fn wants(&self, event_type: &str) -> bool {
        [
            <StockChanged as Event>::TYPE,
            <OrderDelivered as Event>::TYPE,
            <MediaUploaded as Event>::TYPE,
            <MediaDeleted as Event>::TYPE,
            <UserDeleted as Event>::TYPE,
        ]
        .contains(&event_type)
    }

    fn committed<'a>(
        &'a self,
        _event: &'a Envelope,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(self.cache.invalidate())
    }
}

/// Starts the relay that moves the outbox to `events.product` and the consumer of inventory's
/// stream, both stopped with the service.
pub(crate) async fn start(context: &mut Context<PgPool, Redis>, cache: Cache) -> Result<(), StartError> {
    let metrics = EventMetrics::new(&context.metrics);
    context.spawn_relay(metrics.clone()).await?;
    let config = context.consumer_config(CONSUMES);
    context.spawn_consumer(config, Arc::new(StockFlags { cache }), metrics).await
}
