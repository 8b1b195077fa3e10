//! The payment providers behind one trait: [`sandbox`] (built in, the default under
//! `cargo xtask up`) and [`stripe`] (PaymentIntents and Refunds over Stripe's HTTP API). The
//! service talks to a provider only through [`Provider`]: create an intent idempotently, retrieve
//! its verdict (reconciliation), refund idempotently. Verdicts arrive as webhooks signed the
//! same way by both, verified by the one path in `routes`.

pub mod sandbox;
pub mod stripe;

use contracts::types::{Amount, Currency};
use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

/// What a provider call returns.
pub type ProviderFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Not reached, or it answered with a server error: retry later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// It refused the request (a 4xx): retrying the same request will not help.
    #[error("the provider refused: {0}")]
    Refused(String),
}

/// An intent to create.
#[derive(Clone, Debug)]
pub struct IntentRequest {
    pub order_id: Uuid,
    pub amount_minor: Amount,
    pub currency: Currency,
    /// The provider's idempotency key: the same key gives the same intent.
    pub idempotency_key: String,
}

/// An intent the provider made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub client_secret: String,
}

/// What the provider knows about an intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Succeeded,
    /// Its last attempt was declined (the shopper may try again).
    Failed(String),
    /// Nothing decided yet.
    Pending,
}

/// A refund to make.
#[derive(Clone, Debug)]
pub struct RefundRequest {
    pub intent_id: String,
    pub amount_minor: Amount,
    /// Our refund's id: the provider's idempotency key, so a retry never refunds twice.
    pub refund_id: Uuid,
}

/// What became of a refund at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Done: the money is on its way back (Stripe's `succeeded`).
    Succeeded {
        provider_refund_id: String,
    },
    /// Accepted but not settled yet (Stripe's `pending`, `requires_action`: methods that
    /// settle later, and that may still fail): asked about again until it is decided.
    Pending {
        provider_refund_id: String,
    },
    Failed(String),
}

/// What cancelling an intent came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancellation {
    /// It can no longer be paid (cancelled now or before).
    Cancelled,
    /// It had succeeded: it is refunded instead.
    Succeeded,
    /// The provider would not cancel it and it is still being decided (Stripe's `processing`:
    /// a delayed method such as SEPA): it stays watched until it settles.
    StillOpen,
}

/// A payment provider.
pub trait Provider: Send + Sync + 'static {
    /// Its name in routes (`/payments/webhooks/{name}`) and records.
    fn name(&self) -> &'static str;
    /// Creates an intent, or returns the one made before under the same idempotency key.
    fn create_intent<'a>(&'a self, request: &'a IntentRequest) -> ProviderFuture<'a, Intent>;
    /// The provider's verdict on an intent.
    fn retrieve<'a>(&'a self, intent_id: &'a str) -> ProviderFuture<'a, Verdict>;
    /// Refunds (part of) an intent, once per refund id however often it is asked.
    fn refund<'a>(&'a self, request: &'a RefundRequest) -> ProviderFuture<'a, RefundOutcome>;
    /// Cancels an intent so it can no longer be paid.
    fn cancel<'a>(&'a self, intent_id: &'a str) -> ProviderFuture<'a, Cancellation>;
    /// What became of a refund it accepted before (`RefundOutcome::Pending`), by its id there.
    fn refund_status<'a>(&'a self, provider_refund_id: &'a str) -> ProviderFuture<'a, RefundOutcome>;
}
