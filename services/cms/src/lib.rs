//! The cms service: marketing pages made of typed blocks, with an editable draft and immutable
//! published versions (any can be restored), publishing now or on a schedule, preview links,
//! navigation menus and site-wide snippets. Public reads carry ETags for the CDN; every
//! publication emits CONTENT_PUBLISHED / CONTENT_UNPUBLISHED and queues the storefront's
//! on-demand revalidation in the same transaction (`app::revalidations` sends it, with retries).
//! The block rules and rendering in `domain`, the use cases (staff writes, publishing, the
//! schedule, revalidations) in `app`, the schema `cms` in `store`.

pub mod app;
pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use contracts::media::MediaClient;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::{CmsConfig, Revalidation};

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::CMS;

/// The job that publishes and unpublishes what is scheduled.
const PUBLICATION_SCHEDULE: &str = "publication schedule";
/// The job that tells the storefront to revalidate (when a hook is configured).
const STOREFRONT_REVALIDATION: &str = "storefront revalidation";

service_kit::fleet_service!(
    CmsConfig,
    CmsConfig::from_env,
    produces = true,
    jobs = &[PUBLICATION_SCHEDULE, STOREFRONT_REVALIDATION],
    openapi = openapi,
);

/// The cms schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/cms");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the relay, the scheduler and the revalidator, binds the
/// listener.
pub async fn build(config: CmsConfig) -> Result<Application, StartError> {
    let settings = Arc::new(config.clone());
    let mut context = Context::start(config.service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    events::start(&mut context).await?;
    let publisher = app::Cms {
        pool: context.db.clone(),
        media: MediaClient::new(context.client.clone()),
        settings: settings.clone(),
    };
    let scheduler = publisher.clone();
    context.background.every(PUBLICATION_SCHEDULE, settings.schedule_interval, move || {
        let scheduler = scheduler.clone();
        async move {
            if let Err(error) = scheduler.run_schedule(scheduler.settings.clock.now()).await {
                tracing::warn!(?error, "running the publishing schedule failed");
            }
        }
    });
    match &settings.revalidation {
        Some(hook) => {
            let revalidator =
                app::revalidations::Revalidator::new(context.db.clone(), hook.clone(), &settings, &context.metrics);
            context.background.job(STOREFRONT_REVALIDATION, revalidator.spawn(context.background.stop_signal()));
        }
        None => tracing::info!("STOREFRONT_REVALIDATE_URL is not set: publications are not announced to a storefront"),
    }
    context.serve_internal(routes::router(publisher)).await
}
