//! The media service's use cases, between the routes (HTTP) and the store (SQL): starting an
//! upload, completing it (read the upload, process it with no transaction or lock held, record
//! it with MEDIA_UPLOADED in a short transaction) and deleting media, each write with its event
//! and audit entry in one transaction.

pub(crate) mod uploads;

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::MediaConfig;
use crate::s3::ObjectStore;

/// What every use case and route of media reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub objects: ObjectStore,
    pub settings: Arc<MediaConfig>,
    /// Images being decoded and resized now (`MEDIA_PROCESSING_CONCURRENCY` permits).
    pub processing: Arc<tokio::sync::Semaphore>,
}
