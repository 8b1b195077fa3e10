//! The payment service's configuration: the provider (required: `stripe` with its secret key
//! and API base, or `sandbox`, which only a deployment that says it is not production may
//! choose), the webhook signing secret, where the sandbox delivers its webhooks, and how often
//! reconciliation runs.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig, ShopEnv};
use settings::service::payment as declared;

/// Which provider takes the payments.
#[derive(Clone, Debug)]
pub enum ProviderChoice {
    /// The built-in simulated provider (test cards); never in production.
    Sandbox,
    /// Stripe: its API base and the secret `sk_…` key.
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
    /// The sandbox and the declared defaults around a shared config (tests, whose configs say
    /// development).
    pub fn new(service: ServiceConfig, webhook_secret: SecretString) -> Self {
        let (webhook_url, reconcile_every, reconcile_after) =
            EnvReader::defaults(crate::SERVICE, |env| Some(Self::timing(env)));
        Self {
            service,
            provider: ProviderChoice::Sandbox,
            webhook_secret,
            webhook_url,
            reconcile_every,
            reconcile_after,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_env())
    }

    /// Reads the configuration from `env`, every problem at once.
    pub fn read(env: EnvReader) -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, env, |env, service| {
            let provider = read_provider(env);
            if let (Some(choice), Some(service)) = (&provider, &service)
                && let Err(problem) = choice.check_allowed(service.environment)
            {
                env.problem(problem);
            }
            let secret =
                env.file(&declared::PAYMENT_WEBHOOK_SECRET_FILE).map(|s| SecretString::from(s.trim().to_owned()));
            let (webhook_url, reconcile_every, reconcile_after) = Self::timing(env);
            Some(Self {
                service: service?,
                provider: provider?,
                webhook_secret: secret?,
                webhook_url,
                reconcile_every,
                reconcile_after,
            })
        })
    }

    /// Where the sandbox's webhooks go, and reconciliation's pace.
    fn timing(env: &mut EnvReader) -> (Option<String>, Duration, Duration) {
        let webhook_url = env.text(&declared::PAYMENT_WEBHOOK_URL);
        (
            webhook_url,
            env.seconds(&declared::PAYMENT_RECONCILE_EVERY_SECS),
            env.seconds(&declared::PAYMENT_RECONCILE_AFTER_SECS),
        )
    }
}

/// The provider chosen, with what it needs.
fn read_provider(env: &mut EnvReader) -> Option<ProviderChoice> {
    if !env.given(&declared::PAYMENT_PROVIDER) {
        env.problem(format!(
            "{} is not set: choose stripe (with {}), or sandbox where {}=development",
            declared::PAYMENT_PROVIDER.name,
            declared::STRIPE_SECRET_KEY_FILE.name,
            settings::shared::SHOP_ENV.name
        ));
        return None;
    }
    match env.choice(&declared::PAYMENT_PROVIDER)? {
        "stripe" => {
            let api_base = env.get::<String>(&declared::STRIPE_API_BASE).trim_end_matches('/').to_owned();
            if !env.given(&declared::STRIPE_SECRET_KEY_FILE) {
                env.problem(format!("{} is required with stripe", declared::STRIPE_SECRET_KEY_FILE.name));
            }
            env.file(&declared::STRIPE_SECRET_KEY_FILE)
                .map(|key| ProviderChoice::Stripe { api_base, secret_key: SecretString::from(key.trim().to_owned()) })
        }
        _ => Some(ProviderChoice::Sandbox),
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
            (settings::shared::INTERNAL_KEY_FILE.name.into(), file("internal.pem", "not parsed when read")),
            (settings::shared::INTERNAL_JWKS_FILE.name.into(), file("jwks.json", r#"{"keys":[]}"#)),
            (settings::shared::DATABASE_URL.name.into(), "postgres://payment@127.0.0.1/shop".into()),
            (settings::service::payment::PAYMENT_WEBHOOK_SECRET_FILE.name.into(), file("whsec", "whsec_test")),
            (settings::service::payment::STRIPE_SECRET_KEY_FILE.name.into(), file("sk", "sk_test_123")),
        ]);
        map.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let result = PaymentConfig::read(EnvReader::from_pairs(map));
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    fn problems(vars: &[(&str, &str)]) -> String {
        read(vars).expect_err("refused").to_string()
    }

    #[test]
    fn a_payment_service_without_a_chosen_provider_refuses_to_start() {
        assert!(problems(&[]).contains("PAYMENT_PROVIDER is not set"), "{}", problems(&[]));
        assert!(problems(&[(settings::shared::SHOP_ENV.name, "development")]).contains("PAYMENT_PROVIDER is not set"));
    }

    #[test]
    fn the_sandbox_is_refused_in_production_and_where_shop_env_is_unset() {
        for vars in [
            &[(settings::service::payment::PAYMENT_PROVIDER.name, "sandbox")][..],
            &[
                (settings::service::payment::PAYMENT_PROVIDER.name, "sandbox"),
                (settings::shared::SHOP_ENV.name, "production"),
            ],
        ] {
            let text = problems(vars);
            assert!(text.contains("refused in production"), "{text}");
        }
    }

    #[test]
    fn the_sandbox_runs_only_where_the_deployment_says_development() {
        let config = read(&[
            (settings::service::payment::PAYMENT_PROVIDER.name, "sandbox"),
            (settings::shared::SHOP_ENV.name, "development"),
        ])
        .unwrap();
        assert!(matches!(config.provider, ProviderChoice::Sandbox));
        assert_eq!(config.service.environment, ShopEnv::Development);
    }

    #[test]
    fn stripe_runs_in_production_with_its_key() {
        let config = read(&[(settings::service::payment::PAYMENT_PROVIDER.name, "stripe")]).unwrap();
        assert_eq!(config.provider.name(), "stripe");
        assert_eq!(config.service.environment, ShopEnv::Production);
    }

    #[test]
    fn an_unknown_environment_or_provider_is_named() {
        assert!(
            problems(&[
                (settings::service::payment::PAYMENT_PROVIDER.name, "stripe"),
                (settings::shared::SHOP_ENV.name, "prod")
            ])
            .contains("SHOP_ENV=\"prod\" must be one of")
        );
        assert!(
            problems(&[(settings::service::payment::PAYMENT_PROVIDER.name, "paypal")])
                .contains("PAYMENT_PROVIDER=\"paypal\" must be one of")
        );
    }
}
