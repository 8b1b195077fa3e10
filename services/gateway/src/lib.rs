//! The gateway: the only service the outside reaches (through NGINX). Per request it matches
//! the route table (data: methods and path pattern, auth, permission, rate class, timeout, body
//! limit, cookies), validates the access token against auth's JWKS, checks revocation and the
//! rate limit in one Redis round trip, mints an internal token for the upstream, and forwards to
//! a replica behind a circuit breaker. It executes no business logic and never touches a
//! database.

pub mod config;
mod domain;
pub mod error;
mod hygiene;
mod jwks;
pub mod limits;
mod proxy;
pub mod route_table;
mod routes;
pub mod spec;
pub mod upstream;
mod verified;

use std::sync::Arc;

use observability::ReadinessCheck;
use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

pub use config::GatewayConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::GATEWAY;

/// The job that refreshes auth's public keys.
const JWKS_REFRESH: &str = "jwks refresh";

service_kit::fleet_service!(GatewayConfig, GatewayConfig::from_env, jobs = &[JWKS_REFRESH]);

/// Starts the gateway through the same context as every service (its JWKS refresher stops
/// with it) and binds it. Its Redis is optional: without it, limits are per instance.
pub async fn build(config: GatewayConfig) -> Result<Application, StartError> {
    let mut context = Context::start(config.service.clone()).await?;
    let jwks = Arc::new(jwks::JwksCache::new(context.client.clone(), config.jwks_min_refresh));
    context
        .background
        .job(JWKS_REFRESH, jwks.clone().spawn_refresher(config.jwks_refresh_every, context.background.stop_signal()));
    let redis = match &config.service.redis {
        Some(redis) => Some(connect_redis(&redis.target()).await?),
        None => {
            tracing::warn!("REDIS_URL is not set: rate limits are per instance and revocations are not checked");
            None
        }
    };
    let prefix = config.service.redis.as_ref().map(|r| r.key_prefix.clone()).unwrap_or_default();
    let gate = limits::Gate::new(redis.clone(), prefix, config.limits.clone(), &context.metrics);
    let proxy = proxy::Proxy::new(&config, context.minter.clone(), jwks.clone(), gate, &context.metrics);
    context.add_check(ReadinessCheck::new("jwks", move || {
        let loaded = jwks.is_loaded();
        async move { if loaded { Ok(()) } else { Err("auth's JWKS not loaded yet".to_owned()) } }
    }));
    if let Some(redis) = redis {
        context.add_check(service_kit::redis::readiness(redis));
    }
    let routes = routes::router(proxy).map_err(|e| StartError::part("the OpenAPI document", e))?;
    context.serve_public(routes).await
}

/// The gateway's Redis: short timeouts, so a dead Redis costs a request little before the local
/// limiter takes over.
async fn connect_redis(target: &service_kit::redis::RedisTarget) -> Result<service_kit::redis::Connection, StartError> {
    let timeouts = service_kit::redis::Timeouts {
        response: Some(std::time::Duration::from_millis(250)),
        connection: Some(std::time::Duration::from_millis(500)),
        retries: Some(1),
    };
    Ok(target.connect_with(timeouts).await?)
}
