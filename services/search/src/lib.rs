//! The search service: typo-tolerant, faceted full-text search over the catalog's active
//! products, from an embedded tantivy index on the replica's local disk.
//!
//! It owns no database. The index is fed by the catalog's and inventory's events (`events`);
//! when a replica starts without an index (or with one of an older schema) it rebuilds it from
//! the product service's internal export, and `/ready` stays false until that is done. Routes
//! in `routes`, the pure text and query rules in `domain`, the index in `store`.

mod app;
pub mod config;
pub mod domain;
pub mod error;
mod events;
mod routes;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::events::{Consumer, EventMetrics};
use contracts::product::{MAX_DOCUMENTS, ProductClient};
use observability::ReadinessCheck;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::SearchConfig;
use store::SearchIndex;

/// How far back a new replica's consumer group starts.
const REPLAY_WINDOW: Duration = Duration::from_secs(600);

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::SEARCH;

/// The job that builds the index from the catalog, then consumes its events.
const INDEX: &str = "index build and updates";

service_kit::fleet_service!(
    SearchConfig,
    SearchConfig::from_env,
    consumes = events::CONSUMES,
    jobs = &[INDEX],
    openapi = openapi,
);

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Opens (or makes) the index, joins the replica's consumer group, rebuilds in the background
/// when needed, then applies events; binds the listener at once.
pub async fn build(config: SearchConfig) -> Result<Application, StartError> {
    let SearchConfig { service, index_dir, replica, concurrency } = config;
    let mut context = Context::start(service).await?.with_redis().await?;
    let (index, fresh) = tokio::task::spawn_blocking(move || SearchIndex::open(&index_dir))
        .await
        .map_err(|e| StartError::part("search index", e))?
        .map_err(|e| StartError::part("search index", e))?;
    let index = Arc::new(index);
    let ready = Arc::new(AtomicBool::new(!fresh));
    let products = ProductClient::new(context.client.clone());

    // The group exists before the export is read, so whatever changes after this is delivered;
    // it starts a while back, for what the product service may not have applied yet when it
    // answers the export (a stock flag, say).
    let mut consumer_config = context.consumer_config(events::CONSUMES);
    consumer_config.group = format!("{SERVICE}.{replica}");
    consumer_config.replay_window = Some(REPLAY_WINDOW);
    let indexer = events::Indexer { index: index.clone(), products: products.clone() };
    context.record_consumer(&consumer_config);
    let consumer = Consumer::connect_idempotent(
        &context.redis.target,
        consumer_config,
        Arc::new(indexer),
        EventMetrics::new(&context.metrics),
    )
    .await
    .map_err(|e| StartError::part("event consumer", e))?;
    context.add_check(consumer.readiness(context.redis.connection.clone()));
    let built = ready.clone();
    context.add_check(ReadinessCheck::new("search_index", move || {
        let built = built.load(Ordering::Acquire);
        async move { if built { Ok(()) } else { Err("the index is being built".to_owned()) } }
    }));

    let mut stop = context.background.stop_signal();
    let consumer_stop = context.background.stop_signal();
    let (rebuild_index, rebuild_ready) = (index.clone(), ready.clone());
    context.background.job(
        INDEX,
        tokio::spawn(async move {
            if fresh {
                let mut backoff = Duration::from_millis(200);
                loop {
                    match rebuild(&rebuild_index, &products).await {
                        Ok(count) => {
                            tracing::info!(products = count, "search index built from the catalog's export");
                            break;
                        }
                        Err(error) => tracing::warn!(%error, retry_in = ?backoff, "building the search index failed"),
                    }
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
            rebuild_ready.store(true, Ordering::Release);
            let _ = consumer.spawn(consumer_stop).await;
        }),
    );
    let heavy = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let light = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let state = app::AppState { index, ready, heavy, light };
    context.serve_internal(routes::router(state)).await
}

/// Fills the index from the product service's export: the categories, then every active
/// product a page at a time.
async fn rebuild(index: &Arc<SearchIndex>, products: &ProductClient) -> Result<usize, String> {
    let categories = products.categories().await.map_err(|e| e.to_string())?;
    let blocking = |job: Box<dyn FnOnce() -> Result<usize, store::IndexError> + Send>| async move {
        tokio::task::spawn_blocking(job).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
    };
    let target = index.clone();
    blocking(Box::new(move || target.set_categories(categories).map(|()| 0))).await?;
    let (mut after, mut first, mut total) = (None, true, 0);
    loop {
        let page = products.search_documents(after, MAX_DOCUMENTS).await.map_err(|e| e.to_string())?;
        let target = index.clone();
        total += blocking(Box::new(move || target.rebuild_page(page.items, first))).await?;
        first = false;
        match page.next_after {
            Some(next) => after = Some(next.into()),
            None => break,
        }
    }
    let target = index.clone();
    blocking(Box::new(move || target.finish_rebuild().map(|()| 0))).await?;
    Ok(total)
}
