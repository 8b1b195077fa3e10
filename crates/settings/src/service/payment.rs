//! The payment service: the provider, the webhook signing secret, where the sandbox delivers
//! its webhooks, and how often reconciliation runs.

use crate::Setting;

pub const PAYMENT_PROVIDER: Setting = Setting::required(
    "PAYMENT_PROVIDER",
    "`stripe`, or `sandbox` only where `SHOP_ENV=development` (test card 4242424242424242 pays, 4000000000000002 is declined); without it payment refuses to start.",
)
.choices(&["stripe", "sandbox"]);
pub const PAYMENT_WEBHOOK_SECRET_FILE: Setting = Setting::required(
    "PAYMENT_WEBHOOK_SECRET_FILE",
    "The webhook signing secret's file, its whole text the key (Stripe's `whsec_…`; `cargo xtask keys` makes the sandbox's).",
);
pub const PAYMENT_WEBHOOK_URL: Setting = Setting::computed(
    "PAYMENT_WEBHOOK_URL",
    "the service's own handling",
    "Where the sandbox posts its signed verdicts (`cargo xtask up`: through NGINX).",
);
pub const STRIPE_SECRET_KEY_FILE: Setting =
    Setting::optional("STRIPE_SECRET_KEY_FILE", "Stripe's secret key (`sk_…`) in a file (required with stripe).");
pub const STRIPE_API_BASE: Setting =
    Setting::value("STRIPE_API_BASE", "https://api.stripe.com", "Stripe's API base URL (tests point it at a stub).");
pub const PAYMENT_RECONCILE_EVERY_SECS: Setting =
    Setting::value("PAYMENT_RECONCILE_EVERY_SECS", "30", "How often reconciliation runs.");
pub const PAYMENT_RECONCILE_AFTER_SECS: Setting = Setting::value(
    "PAYMENT_RECONCILE_AFTER_SECS",
    "120",
    "How long an intent waits for its webhook (or a refund for its outcome) before the provider is asked.",
);

pub const ALL: &[&Setting] = &[
    &PAYMENT_PROVIDER,
    &PAYMENT_WEBHOOK_SECRET_FILE,
    &PAYMENT_WEBHOOK_URL,
    &STRIPE_SECRET_KEY_FILE,
    &STRIPE_API_BASE,
    &PAYMENT_RECONCILE_EVERY_SECS,
    &PAYMENT_RECONCILE_AFTER_SECS,
];
