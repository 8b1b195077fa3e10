//! The payment service: one intent per order with the configured provider (the built-in
//! sandbox, whose test cards decide and whose verdicts arrive as webhooks signed like Stripe's,
//! or Stripe over its HTTP API), webhook verification (HMAC-SHA256 over `t.payload`, tolerance,
//! rotation, constant time, events applied once by id) with PAYMENT_SUCCEEDED / PAYMENT_FAILED in
//! the verdict's transaction, staff refunds and automatic refunds of a success that came after
//! its order ended (PAYMENT_REFUNDED), and reconciliation of missed webhooks.

mod app;
pub mod config;
pub mod domain;
pub mod error;
mod events;
pub mod provider;
mod routes;
mod store;

pub use app::settle as reconcile;

use std::sync::Arc;

use service_kit::app::Application;
use service_kit::{Context, StartError, fleet};

use crate::provider::Provider;
use crate::provider::sandbox::Sandbox;
use crate::provider::stripe::Stripe;

pub use config::{PaymentConfig, ProviderChoice};

/// The service's name in the fleet table.
pub const SERVICE: &str = fleet::PAYMENT;

service_kit::fleet_service!(
    PaymentConfig,
    PaymentConfig::from_env,
    produces = true,
    consumes = events::CONSUMES,
    jobs = &[events::RECONCILIATION],
    openapi = openapi,
);

/// The payment schema's migrations, applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/payment");

/// The OpenAPI description of the service's public routes (service paths, before `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}

/// Connects and migrates, starts the relay, the consumer of `events.order` and
/// reconciliation, binds the listener. The sandbox's own deliveries (straight to this service)
/// carry an internal token of this service, hence its place among the allowed issuers.
pub async fn build(config: PaymentConfig) -> Result<Application, StartError> {
    let PaymentConfig { service, provider, webhook_secret, webhook_url, reconcile_every, reconcile_after } = config;
    // The same rule as reading the environment, for configs made in code.
    provider.check_allowed(service.environment).map_err(|problem| StartError::part("payment provider", problem))?;
    let environment = service.environment;
    // Where the provider's webhooks arrive: the sandbox posts there itself; Stripe's dashboard
    // must name it.
    let webhook_endpoint = webhook_url.clone().unwrap_or_else(|| format!("/payments/webhooks/{}", provider.name()));
    let mut context = Context::start(service).await?.with_database(&MIGRATOR).await?.with_redis().await?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| StartError::part("provider client", e))?;
    let (provider, sandbox): (Arc<dyn Provider>, _) = match provider {
        ProviderChoice::Sandbox => {
            let sandbox = Sandbox {
                pool: context.db.clone(),
                secret: webhook_secret.clone(),
                url: webhook_url,
                http,
                minter: Arc::clone(&context.minter),
            };
            (Arc::new(sandbox.clone()), Some(sandbox))
        }
        ProviderChoice::Stripe { api_base, secret_key } => {
            (Arc::new(Stripe { base: api_base, secret_key, http }), None)
        }
    };
    tracing::info!(provider = provider.name(), %environment, %webhook_endpoint, "payments are taken by this provider");
    let info = prometheus::IntGaugeVec::new(
        prometheus::Opts::new(
            "payment_provider_info",
            "The provider that takes payments, and the deployment's environment.",
        ),
        &["provider", "environment"],
    )
    .expect("valid metric");
    info.with_label_values(&[provider.name(), environment.as_str()]).set(1);
    context.metrics.register(Box::new(info)).expect("registered once");
    events::start(&mut context, Arc::clone(&provider), reconcile_every, reconcile_after).await?;
    let state = app::AppState {
        pool: context.db.clone(),
        orders: contracts::order::OrderClient::new(context.client.clone()),
        provider,
        sandbox,
        webhook_secret,
    };
    context.serve_internal(routes::router(state)).await
}
