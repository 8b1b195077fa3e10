//! The built-in sandbox provider. It keeps its own side of things (what a real provider would
//! hold: intents, verdicts, refunds) in tables of its own (`sandbox_*`), apart from our records,
//! so that reconciliation repairs a lost webhook from it exactly as it would from Stripe. A
//! confirmation with a test card decides the verdict, records it on the sandbox's side and
//! delivers it as a webhook signed exactly like Stripe's, either to `PAYMENT_WEBHOOK_URL`
//! (through NGINX and the gateway under `cargo xtask up`) or, when none is configured, straight
//! into this service's own webhook handling, which verifies the signature all the same.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand;
use internal_token::{Minter, Subject};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use super::{
    Cancellation, Intent, IntentRequest, Provider, ProviderError, ProviderFuture, RefundOutcome, RefundRequest, Verdict,
};
use crate::domain::{Outcome, header, intent_event};
use crate::store::sandbox as store;

/// The provider's name, in routes and records.
pub const PROVIDER: &str = "sandbox";

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::fill(&mut buffer).expect("the system RNG works");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

fn unavailable(error: sqlx::Error) -> ProviderError {
    ProviderError::Unavailable(error.to_string())
}

/// The sandbox: its records, and where and how verdicts are delivered.
#[derive(Clone)]
pub struct Sandbox {
    pub pool: PgPool,
    pub secret: SecretString,
    pub url: Option<String>,
    pub http: reqwest::Client,
    pub minter: Arc<Minter>,
}

/// A signed webhook: its raw body and `Stripe-Signature` header.
pub struct Signed {
    pub body: Vec<u8>,
    pub signature: String,
}

impl Sandbox {
    /// The sandbox's own books (it stands in for the provider, whose ledger this is, not the
    /// shop's): refunds part of an intent once per key, never beyond its amount, the intent
    /// locked. The one transaction of the service outside `app`, as the provider's own.
    async fn book_refund(
        &self,
        intent_id: &str,
        key: &str,
        amount_minor: i64,
        new_id: &str,
    ) -> sqlx::Result<store::SandboxRefund> {
        let mut tx = self.pool.begin().await?;
        let Some((status, amount)) = store::lock_intent(&mut tx, intent_id).await? else {
            return Ok(store::SandboxRefund::NoIntent);
        };
        if let Some(id) = store::refund_by_key(&mut tx, key).await? {
            return Ok(store::SandboxRefund::Done(id));
        }
        if status != "succeeded" {
            return Ok(store::SandboxRefund::NotSucceeded);
        }
        if store::refunded(&mut tx, intent_id).await? + amount_minor > amount {
            return Ok(store::SandboxRefund::TooMuch);
        }
        store::insert_refund(&mut tx, new_id, intent_id, key, amount_minor).await?;
        tx.commit().await?;
        Ok(store::SandboxRefund::Done(new_id.to_owned()))
    }

    /// Decides an intent with a test card on the sandbox's side and returns the signed event
    /// to deliver; `None` when the sandbox knows no such intent.
    pub async fn decide(&self, intent_id: &str, outcome: Outcome) -> sqlx::Result<Option<Signed>> {
        let (status, error) = match outcome {
            Outcome::Succeeded => ("succeeded", None),
            Outcome::Declined => ("requires_payment_method", Some("card_declined")),
        };
        let decided = store::decide(&self.pool, intent_id, status, error).await?;
        Ok(decided.map(|(amount, currency, order_id)| {
            self.sign(outcome, intent_id, amount, &currency, &order_id.to_string())
        }))
    }

    /// The signed event of a verdict on an intent.
    pub fn sign(&self, outcome: Outcome, intent_id: &str, amount: i64, currency: &str, order_id: &str) -> Signed {
        let now = chrono::Utc::now().timestamp();
        let event = intent_event(
            &format!("evt_sandbox_{}", random_hex(12)),
            outcome,
            intent_id,
            amount,
            currency,
            order_id,
            now,
        );
        let body = serde_json::to_vec(&event).expect("an event serializes");
        let signature = header(self.secret.expose_secret(), now, &body);
        Signed { body, signature }
    }

    /// Posts a signed event to the configured URL, retrying with backoff; `false` when there is
    /// no URL (the caller hands it to its own handling then). A webhook given up on is repaired
    /// by reconciliation.
    pub async fn post(&self, signed: &Signed) -> bool {
        let Some(url) = &self.url else { return false };
        // Straight at the service, the internal token authenticates the call; through the
        // gateway, it arrives as X-Provider-Authorization and the signature alone counts.
        let token = self.minter.mint(crate::SERVICE, &Subject::anonymous());
        for attempt in 0..5u32 {
            let sent = self
                .http
                .post(url)
                .bearer_auth(&*token)
                .header("content-type", "application/json")
                .header("stripe-signature", &signed.signature)
                .body(signed.body.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => return true,
                Ok(response) => tracing::warn!(status = %response.status(), attempt, "sandbox webhook refused"),
                Err(error) => {
                    tracing::warn!(error = %service_kit::Chain(&error), attempt, "sandbox webhook not delivered")
                }
            }
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
        tracing::error!("sandbox webhook given up after 5 attempts; reconciliation will repair it");
        true
    }
}

impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn create_intent<'a>(&'a self, request: &'a IntentRequest) -> ProviderFuture<'a, Intent> {
        Box::pin(async move {
            let id = format!("pi_sandbox_{}", random_hex(12));
            let client_secret = format!("{id}_secret_{}", random_hex(16));
            let intent = store::NewSandboxIntent {
                id: &id,
                idempotency_key: &request.idempotency_key,
                amount_minor: request.amount_minor.minor(),
                currency: request.currency.as_str(),
                order_id: request.order_id,
                client_secret: &client_secret,
            };
            let (id, client_secret) = store::create_intent(&self.pool, &intent).await.map_err(unavailable)?;
            Ok(Intent { id, client_secret })
        })
    }

    fn retrieve<'a>(&'a self, intent_id: &'a str) -> ProviderFuture<'a, Verdict> {
        Box::pin(async move {
            match store::intent_status(&self.pool, intent_id).await.map_err(unavailable)? {
                None => Err(ProviderError::Refused(format!("no such intent: {intent_id}"))),
                Some((status, _)) if status == "succeeded" => Ok(Verdict::Succeeded),
                Some((status, _)) if status == "canceled" => Ok(Verdict::Failed(status)),
                Some((_, Some(error))) => Ok(Verdict::Failed(error)),
                Some(_) => Ok(Verdict::Pending),
            }
        })
    }

    fn cancel<'a>(&'a self, intent_id: &'a str) -> ProviderFuture<'a, Cancellation> {
        Box::pin(async move {
            let cancelled = store::cancel(&self.pool, intent_id).await.map_err(unavailable)?;
            Ok(if cancelled { Cancellation::Cancelled } else { Cancellation::Succeeded })
        })
    }

    /// The sandbox settles a refund when it is made (it never answers `Pending`), so a refund it
    /// made is done.
    fn refund_status<'a>(&'a self, provider_refund_id: &'a str) -> ProviderFuture<'a, RefundOutcome> {
        Box::pin(async move { Ok(RefundOutcome::Succeeded { provider_refund_id: provider_refund_id.to_owned() }) })
    }

    fn refund<'a>(&'a self, request: &'a RefundRequest) -> ProviderFuture<'a, RefundOutcome> {
        Box::pin(async move {
            let new_id = format!("re_sandbox_{}", random_hex(12));
            let key = request.refund_id.to_string();
            let made = self
                .book_refund(&request.intent_id, &key, request.amount_minor.minor(), &new_id)
                .await
                .map_err(unavailable)?;
            Ok(match made {
                store::SandboxRefund::Done(provider_refund_id) => RefundOutcome::Succeeded { provider_refund_id },
                store::SandboxRefund::NoIntent => {
                    RefundOutcome::Failed(format!("no such intent: {}", request.intent_id))
                }
                store::SandboxRefund::NotSucceeded => RefundOutcome::Failed("the intent has not succeeded".into()),
                store::SandboxRefund::TooMuch => {
                    RefundOutcome::Failed("the amount exceeds what is left to refund".into())
                }
            })
        })
    }
}
