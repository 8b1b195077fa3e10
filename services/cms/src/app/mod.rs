//! The cms service's use cases, between the routes (HTTP) and the store (SQL): each opens and
//! commits its own transaction, writes its change with its event, revalidation and audit entry
//! in it, and answers with a typed error. Nothing here holds a transaction across a call to the
//! media service or the storefront: a draft is rendered before the transaction that saves it.
//! `pages` and `navigation` are the staff's writes, `publishing` puts versions live (now or on
//! schedule), `revalidations` tells the storefront.

pub(crate) mod navigation;
pub(crate) mod pages;
mod publishing;
pub(crate) mod revalidations;

use std::collections::HashMap;
use std::sync::Arc;

use contracts::media::MediaClient;
use service_kit::FieldErrors;
use sqlx::PgPool;

use crate::config::CmsConfig;
use crate::domain::{self, Draft, RenderedBlock};
use crate::error::Result;

/// What every use case of the cms needs: its database, the media service and the settings.
#[derive(Clone)]
pub struct Cms {
    pub pool: PgPool,
    pub media: MediaClient,
    pub settings: Arc<CmsConfig>,
}

impl Cms {
    /// The draft as the public would see it; a missing image is a 422 naming its block, an
    /// unreachable media service a 503.
    pub async fn render(&self, draft: &Draft) -> Result<Vec<RenderedBlock>> {
        let ids = draft.media_ids();
        let media: HashMap<_, _> = self.media.find(&ids).await?.into_iter().map(|m| (m.media_id.uuid(), m)).collect();
        let mut errors = FieldErrors::default();
        let rendered = draft.render(&media, &mut errors);
        errors.finish()?;
        Ok(rendered)
    }

    fn targets(&self, kind: &str, key: &str) -> (Vec<String>, Vec<String>) {
        domain::revalidation_targets(kind, key, &self.settings.page_path)
    }

    fn revalidate(&self) -> bool {
        self.settings.revalidation.is_some()
    }
}
