//! The media service: image uploads to any S3 through presigned PUTs; each upload checked
//! (its real type from its bytes, its pixels counted before decoding), re-encoded without
//! metadata, stored with its variants (JPEG and WebP) under content-hashed immutable keys, and
//! announced with its public URLs (MEDIA_UPLOADED, MEDIA_DELETED) for the catalog to keep.
//! The object store in `s3`, the image rules in `domain`, the use cases in `app`, the schema
//! `media` in `store`.

mod app;
pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
pub mod s3;
mod store;

use std::sync::Arc;

use observability::ReadinessCheck;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::{MediaConfig, S3Settings};

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::MEDIA;

/// The job that deletes uploads never completed.
const ABANDONED_UPLOAD_SWEEP: &str = "abandoned upload sweep";

service_kit::fleet_service!(
    MediaConfig,
    MediaConfig::from_env,
    produces = true,
    jobs = &[ABANDONED_UPLOAD_SWEEP],
    openapi = openapi,
);

/// The media schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/media");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the relay, checks the bucket on readiness, binds the listener.
pub async fn build(config: MediaConfig) -> Result<Application, StartError> {
    let objects = s3::ObjectStore::new(&config.s3);
    let settings = Arc::new(config.clone());
    let mut context = Context::start(config.service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    events::start(&mut context).await?;
    let probe = objects.clone();
    context.add_check(ReadinessCheck::new("object_store", move || {
        let probe = probe.clone();
        async move { probe.reachable().await }
    }));
    sweep_abandoned_uploads(&context, objects.clone());
    let processing = Arc::new(tokio::sync::Semaphore::new(settings.processing));
    let state = app::AppState { pool: context.db.clone(), objects, settings, processing };
    context.serve_internal(routes::router(state)).await
}

/// Every ten minutes, the raw objects of uploads never completed (an hour after their URL
/// expired) are deleted with their rows, so abandoned uploads leave nothing behind.
fn sweep_abandoned_uploads(context: &Context<sqlx::PgPool, service_kit::Redis>, objects: s3::ObjectStore) {
    let pool = context.db.clone();
    context.background.every(ABANDONED_UPLOAD_SWEEP, std::time::Duration::from_secs(600), move || {
        let (pool, objects) = (pool.clone(), objects.clone());
        async move {
            if let Err(error) = sweep_abandoned(&pool, &objects, std::time::Duration::from_secs(3600)).await {
                tracing::warn!(%error, "sweeping abandoned uploads failed");
            }
        }
    });
}

/// Deletes the raw objects and rows of uploads whose URL expired more than `grace` ago without
/// a completion; how many went.
pub async fn sweep_abandoned(
    pool: &sqlx::PgPool,
    objects: &s3::ObjectStore,
    grace: std::time::Duration,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let abandoned = store::abandoned_uploads(pool, grace, 100).await?;
    for (id, key) in &abandoned {
        objects.delete(key).await?;
        store::forget_upload(pool, *id).await?;
    }
    Ok(abandoned.len())
}
