//! What the search service consumes: PRODUCT_* and CATEGORY_* from the catalog, STOCK_CHANGED
//! from inventory, MEDIA_* from media (a product's image URL, which the catalog keeps, changes
//! without a new product version). It owns no database, so each handler is idempotent by construction: a product
//! event fetches the product's current state and applies it only if its version is newer than
//! the index's; a stock flag only if its sequence is newer. The index is committed once per
//! batch, before the batch is acknowledged. Each replica is its own consumer
//! group (`search.<replica>`), so every replica's index sees every event. It emits nothing.

use std::sync::Arc;

use contracts::product::{ProductClient, StockMark};
use events::catalog::{InventoryEvent, MediaEvent, ProductEvent};
use events::consumer::{FlushFuture, HandleFuture};
use events::{Envelope, Handled, HandlerError, IdempotentHandler};

use crate::store::SearchIndex;

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[ProductEvent::DOMAIN, InventoryEvent::DOMAIN, MediaEvent::DOMAIN];

pub(crate) struct Indexer {
    pub index: Arc<SearchIndex>,
    pub products: ProductClient,
}

impl Indexer {
    /// Applies the product's current state (fetched now: an event names only the version).
    async fn refresh_product(&self, id: uuid::Uuid) -> Result<Handled, HandlerError> {
        let mut found = self.products.search_documents_by_id(&[id]).await.map_err(HandlerError::new)?;
        let index = self.index.clone();
        let changed = tokio::task::spawn_blocking(move || match found.pop() {
            Some(document) => index.upsert(document),
            None => index.remove(id),
        })
        .await
        .map_err(HandlerError::new)?
        .map_err(HandlerError::new)?;
        Ok(if changed { Handled::Applied } else { Handled::Ignored })
    }

    async fn refresh_categories(&self, category: uuid::Uuid) -> Result<Handled, HandlerError> {
        let categories = self.products.categories().await.map_err(HandlerError::new)?;
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.refresh_categories(categories, category))
            .await
            .map_err(HandlerError::new)?
            .map_err(HandlerError::new)?;
        Ok(Handled::Applied)
    }
}

impl IdempotentHandler for Indexer {
    /// One commit for the whole batch, before it is acknowledged.
    fn flush(&self) -> FlushFuture<'_> {
        Box::pin(async move {
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.flush())
                .await
                .map_err(HandlerError::new)?
                .map_err(HandlerError::new)
        })
    }

    fn handle<'a>(&'a self, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            if event.event_type.starts_with("PRODUCT_") || event.event_type.starts_with("CATEGORY_") {
                return match ProductEvent::decode(event)? {
                    Some(ProductEvent::ProductCreated(e)) => self.refresh_product(e.product_id.into()).await,
                    Some(ProductEvent::ProductUpdated(e)) => self.refresh_product(e.product_id.into()).await,
                    Some(ProductEvent::ProductArchived(e)) => self.refresh_product(e.product_id.into()).await,
                    Some(ProductEvent::CategoryCreated(e)) => self.refresh_categories(e.category_id.into()).await,
                    Some(ProductEvent::CategoryUpdated(e)) => self.refresh_categories(e.category_id.into()).await,
                    None => Ok(Handled::Ignored),
                };
            }
            let image = match MediaEvent::decode(event)? {
                Some(MediaEvent::MediaUploaded(e)) => {
                    let url = e.variants.get("medium").cloned().unwrap_or(e.url);
                    Some((e.media_id, Some(url)))
                }
                Some(MediaEvent::MediaDeleted(e)) => Some((e.media_id, None)),
                None => None,
            };
            if let Some((media, url)) = image {
                // Held by search itself: the catalog's copy may not have caught up yet.
                let index = self.index.clone();
                tokio::task::spawn_blocking(move || index.image_changed(media.into(), url))
                    .await
                    .map_err(HandlerError::new)?
                    .map_err(HandlerError::new)?;
                return Ok(Handled::Applied);
            }
            let Some(InventoryEvent::StockChanged(changed)) = InventoryEvent::decode(event)? else {
                return Ok(Handled::Ignored);
            };
            let mark = StockMark { sku: changed.sku, in_stock: changed.available, stock_seq: changed.seq };
            let index = self.index.clone();
            let applied = tokio::task::spawn_blocking(move || index.stock_changed(mark))
                .await
                .map_err(HandlerError::new)?
                .map_err(HandlerError::new)?;
            Ok(if applied { Handled::Applied } else { Handled::Ignored })
        })
    }
}
