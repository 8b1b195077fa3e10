//! The payment service's configuration: the provider (required: `stripe` with its secret key
//! and API base, or `sandbox`, which only a deployment that says it is not production may
//! choose), the webhook signing secret, where the sandbox delivers its webhooks, and how often
//! reconciliation runs.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig, ShopEnv};

/// Which provider takes the payments.
#[derive(Clone, Debug)]
pub enum ProviderChoice {
    /// The built-in simulated provider (test cards); never in production.
    Sandbox,
    /// Stripe: `STRIPE_SECRET_KEY_FILE` (the `sk_…` key's file), `STRIPE_API_BASE`.
    Stripe { api_base: String, secret_key: SecretString },
}

impl ProviderChoice {
    /// The provider's name, as its webhook path and `/metrics` spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Stripe { .. } => "stripe",
        }
    }

    /// Refuses a provider the environment does not allow: the sandbox's test cards "pay" any
    /// order, so a production deployment can only take real money.
    pub fn check_allowed(&self, environment: ShopEnv) -> Result<(), String> {
        match (self, environment) {
            (Self::Sandbox, ShopEnv::Production) => Err("PAYMENT_PROVIDER=sandbox takes test cards as payment and is \
                 refused in production; choose stripe, or set SHOP_ENV=development for a shop that \
                 takes no real orders"
                .to_owned()),
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct PaymentConfig {
    pub service: ServiceConfig,
    /// `PAYMENT_PROVIDER` (required): `stripe`, or `sandbox` outside production.
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
    /// The sandbox and the defaults around a shared config (tests, whose configs say
    /// development).
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
        Self::read(EnvReader::from_env())
    }

    /// Reads the configuration from `env`, every problem at once.
    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let provider = match env.optional("PAYMENT_PROVIDER").as_deref() {
            None => {
                env.problem("PAYMENT_PROVIDER is not set: choose stripe (with STRIPE_SECRET_KEY_FILE), or sandbox where SHOP_ENV=development");
                None
            }
            Some("sandbox") => Some(ProviderChoice::Sandbox),
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
        if let (Some(choice), Some(service)) = (&provider, &service)
            && let Err(problem) = choice.check_allowed(service.environment)
        {
            env.problem(problem);
        }
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// An environment with the shared settings' files in place and `vars` on top.
    fn read(vars: &[(&str, &str)]) -> Result<PaymentConfig, ConfigError> {
        let dir = std::env::temp_dir().join(format!("payment-config-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        let mut map: HashMap<String, String> = HashMap::from([
            ("INTERNAL_KEY_FILE".into(), file("internal.pem", "not parsed when read")),
            ("INTERNAL_JWKS_FILE".into(), file("jwks.json", r#"{"keys":[]}"#)),
            ("DATABASE_URL".into(), "postgres://payment@127.0.0.1/shop".into()),
            ("PAYMENT_WEBHOOK_SECRET_FILE".into(), file("whsec", "whsec_test")),
            ("STRIPE_SECRET_KEY_FILE".into(), file("sk", "sk_test_123")),
        ]);
        map.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let result = PaymentConfig::read(EnvReader::from_fn(move |key| map.get(key).cloned()));
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    fn problems(vars: &[(&str, &str)]) -> String {
        read(vars).expect_err("refused").to_string()
    }

    #[test]
    fn a_payment_service_without_a_chosen_provider_refuses_to_start() {
        assert!(problems(&[]).contains("PAYMENT_PROVIDER is not set"), "{}", problems(&[]));
        assert!(problems(&[("SHOP_ENV", "development")]).contains("PAYMENT_PROVIDER is not set"));
    }

    #[test]
    fn the_sandbox_is_refused_in_production_and_where_shop_env_is_unset() {
        for vars in
            [&[("PAYMENT_PROVIDER", "sandbox")][..], &[("PAYMENT_PROVIDER", "sandbox"), ("SHOP_ENV", "production")]]
        {
            let text = problems(vars);
            assert!(text.contains("refused in production"), "{text}");
        }
    }

    #[test]
    fn the_sandbox_runs_only_where_the_deployment_says_development() {
        let config = read(&[("PAYMENT_PROVIDER", "sandbox"), ("SHOP_ENV", "development")]).unwrap();
        assert!(matches!(config.provider, ProviderChoice::Sandbox));
        assert_eq!(config.service.environment, ShopEnv::Development);
    }

    #[test]
    fn stripe_runs_in_production_with_its_key() {
        let config = read(&[("PAYMENT_PROVIDER", "stripe")]).unwrap();
        assert_eq!(config.provider.name(), "stripe");
        assert_eq!(config.service.environment, ShopEnv::Production);
    }

    #[test]
    fn an_unknown_environment_or_provider_is_named() {
        assert!(problems(&[("PAYMENT_PROVIDER", "stripe"), ("SHOP_ENV", "prod")]).contains("SHOP_ENV=\"prod\""));
        assert!(problems(&[("PAYMENT_PROVIDER", "paypal")]).contains("PAYMENT_PROVIDER=\"paypal\""));
    }
}
