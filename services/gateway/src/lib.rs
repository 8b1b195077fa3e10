//! The gateway: the only service the outside reaches (through NGINX). Per request it matches
//! the route table, validates the access token against auth's JWKS, mints an internal token for
//! the upstream, and forwards with a per-route timeout. It executes no business logic and never
//! touches a database. Rate limits, revocation, circuit breakers and replicas' health arrive in
//! the identity-and-edge issue.

pub mod config;
mod jwks;
mod path;
mod proxy;
pub mod routes;

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
    let state = proxy::Proxy::new(&config, minter, jwks.clone());
    let metrics = Metrics::new(SERVICE);
    let ready = {
        let jwks = jwks.clone();
        ReadinessCheck::new("jwks", move || {
            let loaded = jwks.is_loaded();
            async move {
                if loaded {
                    Ok(())
                } else {
                    Err("auth's JWKS not loaded yet".to_owned())
                }
            }
        })
    };
    let routes = Router::new().fallback(proxy::handle).with_state(state);
    let router = ServiceRouter::new(service, metrics).check(ready).public(routes);
    Ok(Application::bind(service.bind, router, service.shutdown_timeout).await?)
}

fn secrecy_expose(secret: &service_kit::config::SecretString) -> &str {
    use service_kit::config::ExposeSecret;
    secret.expose_secret()
}
