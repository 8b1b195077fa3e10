//! The gateway: the only service the outside reaches (through NGINX). Per request it matches
//! the route table, validates the access token against auth's JWKS, mints an internal token for
//! the upstream, and forwards with a per-route timeout. It executes no business logic and never
//! touches a database. Rate limits, revocation, circuit breakers and replicas' health arrive in
//! the identity-and-edge issue.

pub mod config;
mod jwks;
pub mod limits;
mod path;
mod proxy;
pub mod routes;
pub mod upstream;
mod verified;

use std::sync::Arc;

use axum::Router;
use observability::{Metrics, ReadinessCheck};
use service_kit::app::{Application, ServiceRouter};
use service_kit::{InternalClient, StartError};

pub use config::GatewayConfig;

/// The service's name in the fleet table.
pub const SERVICE: &str = "gateway";

/// Binds the gateway and starts its JWKS refresher.
pub async fn build(config: GatewayConfig) -> Result<Application, StartError> {
    let service = &config.service;
    let minter = Arc::new(internal_token::Minter::new(
        SERVICE,
        secrecy_expose(&service.internal_private_key),
        service.internal_token_ttl.as_secs(),
    )?);
    let client = InternalClient::new(service, minter.clone())?;
    let jwks = Arc::new(jwks::JwksCache::new(client, config.jwks_min_refresh));
    jwks.clone().spawn_refresher(config.jwks_refresh_every);
    let metrics = Metrics::new(SERVICE);
    let redis = match &service.redis {
        Some(redis) => Some(connect_redis(&redis.url).await?),
        None => {
            tracing::warn!("REDIS_URL is not set: rate limits are per instance and revocations are not checked");
            None
        }
    };
    let prefix = service.redis.as_ref().map(|r| r.key_prefix.clone()).unwrap_or_default();
    let gate = limits::Gate::new(redis.clone(), prefix, config.limits.clone(), &metrics);
    let state = proxy::Proxy::new(&config, minter, jwks.clone(), gate, &metrics);
    let jwks_ready = {
        let jwks = jwks.clone();
        ReadinessCheck::new("jwks", move || {
            let loaded = jwks.is_loaded();
            async move { if loaded { Ok(()) } else { Err("auth's JWKS not loaded yet".to_owned()) } }
        })
    };
    let mut router = ServiceRouter::new(service, metrics).check(jwks_ready);
    if let Some(redis) = redis {
        router = router.check(service_kit::redis::readiness(redis));
    }
    let routes = Router::new().fallback(proxy::handle).with_state(state);
    let router = router.public(routes);
    Ok(Application::bind(service.bind, router, service.shutdown_timeout).await?)
}

/// The gateway's Redis: short timeouts, so a dead Redis costs a request little before the local
/// limiter takes over.
async fn connect_redis(url: &str) -> Result<redis::aio::ConnectionManager, StartError> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(std::time::Duration::from_millis(250)))
        .set_connection_timeout(Some(std::time::Duration::from_millis(500)))
        .set_number_of_retries(1);
    Ok(redis::aio::ConnectionManager::new_with_config(redis::Client::open(url)?, config).await?)
}

fn secrecy_expose(secret: &service_kit::config::SecretString) -> &str {
    use service_kit::config::ExposeSecret;
    secret.expose_secret()
}
