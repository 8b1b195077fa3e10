//! The payment service's use cases, between the routes (HTTP), the event handlers and the
//! store (SQL): refunds (`refunds`), webhook deliveries (`webhooks`) and settling with the
//! provider outside the request path (`settle`: sending refunds, cancelling intents,
//! reconciliation). Each owns its transaction; none is held across a call to the provider.

pub(crate) mod refunds;
pub mod settle;
pub(crate) mod webhooks;

use std::sync::Arc;

use contracts::order::OrderClient;
use secrecy::SecretString;
use sqlx::PgPool;

use crate::provider::Provider;
use crate::provider::sandbox::Sandbox;

/// What every payment handler reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub orders: OrderClient,
    /// The configured provider.
    pub provider: Arc<dyn Provider>,
    /// The same provider when it is the sandbox (its confirm route exists only then).
    pub sandbox: Option<Sandbox>,
    /// The provider's webhook signing secret.
    pub webhook_secret: SecretString,
}
