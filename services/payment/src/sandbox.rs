//! The built-in sandbox provider: intents with their ids and client secrets made here, confirmed
//! with a test card, and the verdict delivered as a webhook signed exactly like Stripe's, either
//! to `PAYMENT_WEBHOOK_URL` (through NGINX and the gateway under `cargo xtask up`) or, when none
//! is configured, straight into this service's own webhook handling, which verifies the
//! signature all the same.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand;
use internal_token::{Minter, Subject};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{Outcome, header, intent_event};

/// The provider's name, in routes and records.
pub const PROVIDER: &str = "sandbox";

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::fill(&mut buffer).expect("the system RNG works");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new intent: (provider intent id, client secret).
pub fn new_intent() -> (String, String) {
    let id = format!("pi_sandbox_{}", random_hex(12));
    let secret = format!("{id}_secret_{}", random_hex(16));
    (id, secret)
}

/// Where and how verdicts are delivered.
#[derive(Clone)]
pub struct Sandbox {
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
    /// no URL (the caller hands it to its own handling then).
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
                Err(error) => tracing::warn!(%error, attempt, "sandbox webhook not delivered"),
            }
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
        tracing::error!("sandbox webhook given up after 5 attempts");
        true
    }
}
