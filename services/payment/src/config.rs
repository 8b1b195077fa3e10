//! The payment service's configuration: the provider (the built-in `sandbox`; Stripe's adapter is
//! the next slice of the checkout issue), its webhook signing secret, and where the sandbox
//! delivers its webhooks.

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

#[derive(Clone, Debug)]
pub struct PaymentConfig {
    pub service: ServiceConfig,
    /// The whole text of the webhook signing secret (`PAYMENT_WEBHOOK_SECRET_FILE`, like
    /// Stripe's `whsec_…`).
    pub webhook_secret: SecretString,
    /// Where the sandbox posts its signed events (`PAYMENT_WEBHOOK_URL`: through NGINX under
    /// `cargo xtask up`; by default the service's own webhook route).
    pub webhook_url: Option<String>,
}

impl PaymentConfig {
    pub fn new(service: ServiceConfig, webhook_secret: SecretString) -> Self {
        Self { service, webhook_secret, webhook_url: None }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        match env.optional("PAYMENT_PROVIDER").as_deref() {
            None | Some("sandbox") => {}
            Some(other) => {
                env.problem(format!("PAYMENT_PROVIDER={other:?}: only the sandbox provider is built so far"))
            }
        }
        let secret = env.file_contents("PAYMENT_WEBHOOK_SECRET_FILE").map(|s| SecretString::from(s.trim().to_owned()));
        let webhook_url = env.optional("PAYMENT_WEBHOOK_URL");
        env.finish()?;
        Ok(Self {
            service: service.expect("no problems means every field was read"),
            webhook_secret: secret.expect("no problems means the secret was read"),
            webhook_url,
        })
    }
}
