//! The notification service: where links point and how each channel is sent.

use crate::Setting;
use crate::site::STOREFRONT_URL;

pub const MAIL_FROM: Setting =
    Setting::value("MAIL_FROM", "Shopfleet <no-reply@shopfleet.local>", "The From of every email.");
pub const EMAIL_TRANSPORT: Setting = Setting::value(
    "EMAIL_TRANSPORT",
    "log",
    "How email leaves: a log line without content, one .eml file per message in `MAIL_DIR` (what `cargo xtask up` uses), or SMTP.",
)
.choices(&["log", "file", "smtp"]);
pub const MAIL_DIR: Setting =
    Setting::value("MAIL_DIR", ".dev/mail", "Where the `file` transport writes its messages.");
pub const SMTP_HOST: Setting = Setting::optional("SMTP_HOST", "The SMTP server (required with `smtp`).");
pub const SMTP_TLS: Setting =
    Setting::value("SMTP_TLS", "starttls", "How the SMTP connection is secured.").choices(&["none", "starttls", "tls"]);
pub const SMTP_PORT: Setting = Setting::computed("SMTP_PORT", "by `SMTP_TLS`: 25, 587, 465", "The SMTP server's port.");
pub const SMTP_USERNAME: Setting = Setting::optional("SMTP_USERNAME", "The SMTP login, when the server wants one.");
pub const SMTP_PASSWORD: Setting = Setting::optional("SMTP_PASSWORD", "The SMTP login's password.").secret();
pub const SMTP_TIMEOUT_SECS: Setting = Setting::value("SMTP_TIMEOUT_SECS", "10", "The SMTP connection's timeout.");
pub const SMS_TRANSPORT: Setting =
    Setting::value("SMS_TRANSPORT", "log", "How texts leave: a log line, or the Twilio Messages API.")
        .choices(&["log", "twilio"]);
pub const TWILIO_BASE_URL: Setting =
    Setting::value("TWILIO_BASE_URL", "https://api.twilio.com", "Twilio's API base URL (tests point it at a stub).");
pub const TWILIO_ACCOUNT_SID: Setting =
    Setting::optional("TWILIO_ACCOUNT_SID", "The Twilio account (required with `twilio`).");
pub const TWILIO_AUTH_TOKEN: Setting =
    Setting::optional("TWILIO_AUTH_TOKEN", "The Twilio account's token (required with `twilio`).").secret();
pub const TWILIO_FROM: Setting =
    Setting::optional("TWILIO_FROM", "The number texts come from (required with `twilio`).");
pub const PUSH_TRANSPORT: Setting =
    Setting::value("PUSH_TRANSPORT", "log", "How push notifications leave: a log line, or FCM HTTP v1.")
        .choices(&["log", "fcm"]);
pub const FCM_BASE_URL: Setting =
    Setting::value("FCM_BASE_URL", "https://fcm.googleapis.com", "FCM's API base URL (tests point it at a stub).");
pub const FCM_PROJECT_ID: Setting = Setting::optional("FCM_PROJECT_ID", "The Firebase project (required with `fcm`).");
pub const FCM_ACCESS_TOKEN: Setting = Setting::optional(
    "FCM_ACCESS_TOKEN",
    "An OAuth access token for FCM, obtained outside (a sidecar or the platform; required with `fcm`).",
)
.secret();
pub const NOTIFY_MAX_ATTEMPTS: Setting =
    Setting::value("NOTIFY_MAX_ATTEMPTS", "8", "Attempts to send one message before it is given up.");
pub const NOTIFY_RETRY_BASE_MS: Setting =
    Setting::value("NOTIFY_RETRY_BASE_MS", "2000", "The first wait before a retry (exponential backoff).");
pub const NOTIFY_SMS_PER_RECIPIENT_DAY: Setting = Setting::value(
    "NOTIFY_SMS_PER_RECIPIENT_DAY",
    "10",
    "Texts one number may get in 24 hours (verification codes included).",
);
pub const NOTIFY_SMS_PER_ACCOUNT_DAY: Setting = Setting::value(
    "NOTIFY_SMS_PER_ACCOUNT_DAY",
    "10",
    "Texts one account may get in 24 hours (verification codes included).",
);
pub const PHONE_CODE_TTL_SECS: Setting =
    Setting::value("PHONE_CODE_TTL_SECS", "600", "How long a phone verification code is accepted (five guesses).");
pub const PHONE_CODE_INTERVAL_SECS: Setting =
    Setting::value("PHONE_CODE_INTERVAL_SECS", "60", "How soon after one code another may be asked for.");

pub const ALL: &[&Setting] = &[
    &STOREFRONT_URL,
    &MAIL_FROM,
    &EMAIL_TRANSPORT,
    &MAIL_DIR,
    &SMTP_HOST,
    &SMTP_TLS,
    &SMTP_PORT,
    &SMTP_USERNAME,
    &SMTP_PASSWORD,
    &SMTP_TIMEOUT_SECS,
    &SMS_TRANSPORT,
    &TWILIO_BASE_URL,
    &TWILIO_ACCOUNT_SID,
    &TWILIO_AUTH_TOKEN,
    &TWILIO_FROM,
    &PUSH_TRANSPORT,
    &FCM_BASE_URL,
    &FCM_PROJECT_ID,
    &FCM_ACCESS_TOKEN,
    &NOTIFY_MAX_ATTEMPTS,
    &NOTIFY_RETRY_BASE_MS,
    &NOTIFY_SMS_PER_RECIPIENT_DAY,
    &NOTIFY_SMS_PER_ACCOUNT_DAY,
    &PHONE_CODE_TTL_SECS,
    &PHONE_CODE_INTERVAL_SECS,
];
