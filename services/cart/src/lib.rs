//! The cart service: guest carts (an opaque token, stored only once a line arrives) and one cart
//! per signed-in shopper, in Redis with TTLs refreshed on use; lines show current prices from the
//! product service (changed prices and unavailable SKUs flagged); guest carts merge into the
//! shopper's on sign-in; ORDER_PAID removes the ordered lines; the order service reads a cart
//! over the internal API.

mod app;
pub mod config;
mod domain;
pub mod error;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use secrecy::ExposeSecret;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::CartConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::CART;

service_kit::fleet_service!(CartConfig, CartConfig::from_env, consumes = events::CONSUMES, openapi = openapi,);

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects to Redis, starts the order-event consumer and binds the listener.
pub async fn build(config: CartConfig) -> Result<Application, StartError> {
    let CartConfig { service, guest_ttl, user_ttl, max_line_quantity, max_lines, price_cache } = config;
    let tokens = domain::CartTokens::new(service.internal_private_key.expose_secret().as_bytes());
    let mut context = Context::start(service).await?.with_redis().await?;
    let carts = store::Carts::new(context.redis.connection.clone(), &context.redis.prefix);
    events::start(&mut context, carts.clone()).await?;
    let prices = app::Prices::new(contracts::product::ProductClient::new(context.client.clone()), price_cache);
    let state = app::AppState {
        carts,
        tokens: Arc::new(tokens),
        prices: Arc::new(prices),
        orders: contracts::order::OrderClient::new(context.client.clone()),
        limits: app::Limits { guest_ttl, user_ttl, max_line_quantity, max_lines },
        currency: context.config.currency,
    };
    context.serve_internal(routes::router(state)).await
}
