//! The payment service's configuration: the provider (`sandbox`, the default, or `stripe` with
//! its secret key and API base), the webhook signing secret, where the sandbox delivers its
//! webhooks, and how often reconciliation runs.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

/// Which provider takes the payments.
#[derive(Clone, Debug)]
pub enum ProviderChoice {
    /// The built-in simulated provider (test cards).
    Sandbox,
    /// Stripe: `STRIPE_SECRET_KEY_FILE` (the `sk_…` key's file), `STRIPE_API_BASE`.
    Stripe { api_base: String, secret_key: SecretString },
}

#[derive(Clone, Debug)]
pub struct PaymentConfig {
    pub service: ServiceConfig,
    /// `PAYMENT_PROVIDER`: `sandbox` (default) or `stripe`.
    pub provider: ProviderChoice,
    /// The whole text of the webhook signing secret (`PAYMENT_WEBHOOK_SECRET_FILE`, like
    /// Stripe's `whsec_…`).
    pub webhook_secret: SecretString,
    /// Where the sandbox posts its signed events (`PAYMENT_WEBHOOK_URL`: through NGINX under
    /// `cargo xtask up`; by default the service's own webhook handling).
    pub webhook_url: Option<String>,
    /// How often reconciliation runs (`PAYMENT_RECONCILE_EVERY_SECS`, 30).
    pub reconcile_every: Duration,
    /// How long an intent waits for its webhook, or a refund for its outcome, before
    /// reconciliation asks the provider (`PAYMENT_RECONCILE_AFTER_SECS`, 120).
    pub reconcile_after: Duration,
}

impl PaymentConfig {
    /// The sandbox and the defaults around a shared config.
    pub fn new(service: ServiceConfig, webhook_secret: SecretString) -> Self {
        Self {
            service,
            provider: ProviderChoice::Sandbox,
            webhook_secret,
            webhook_url: None,
            reconcile_every: Duration::from_secs(30),
            reconcile_after: Duration::from_secs(120),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let provider = match env.optional("PAYMENT_PROVIDER").as_deref() {
            None | Some("sandbox") => Some(ProviderChoice::Sandbox),
            Some("stripe") => {
                let api_base = env
                    .optional("STRIPE_API_BASE")
                    .unwrap_or_else(|| crate::provider::stripe::API_BASE.to_owned())
                    .trim_end_matches('/')
                    .to_owned();
                env.file_contents("STRIPE_SECRET_KEY_FILE").map(|key| ProviderChoice::Stripe {
                    api_base,
                    secret_key: SecretString::from(key.trim().to_owned()),
                })
            }
            Some(other) => {
                env.problem(format!("PAYMENT_PROVIDER={other:?}: use sandbox or stripe"));
                None
            }
        };
        let secret = env.file_contents("PAYMENT_WEBHOOK_SECRET_FILE").map(|s| SecretString::from(s.trim().to_owned()));
        let webhook_url = env.optional("PAYMENT_WEBHOOK_URL");
        let reconcile_every = env.seconds_or("PAYMENT_RECONCILE_EVERY_SECS", 30);
        let reconcile_after = env.seconds_or("PAYMENT_RECONCILE_AFTER_SECS", 120);
        env.finish()?;
        Ok(Self {
            service: service.expect("no problems means every field was read"),
            provider: provider.expect("no problems means the provider was read"),
            webhook_secret: secret.expect("no problems means the secret was read"),
            webhook_url,
            reconcile_every,
            reconcile_after,
        })
    }
}
