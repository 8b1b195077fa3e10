//! The notification service's configuration: where links point, how each channel is sent.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use service_kit::config::Setting;
use service_kit::{ConfigError, EnvReader, ServiceConfig};
use settings::service::notification as declared;
use settings::site::STOREFRONT_URL;

pub use crate::domain::SmsLimits;
use crate::transport::{EmailTransport, PushTransport, SmsTransport, SmtpSettings, SmtpTls, Transports};

/// How email leaves: a log line without content (the default), one .eml file per message
/// (what `cargo xtask up` uses), or SMTP.
#[derive(Clone, Debug)]
pub enum EmailSettings {
    Log,
    File(PathBuf),
    Smtp(SmtpSettings),
}

#[derive(Clone, Debug)]
pub enum SmsSettings {
    Log,
    /// The Twilio Messages API (its base URL lets tests point it at a stub).
    Twilio {
        base_url: String,
        account_sid: String,
        auth_token: SecretString,
        from: String,
    },
}

#[derive(Clone, Debug)]
pub enum PushSettings {
    Log,
    /// FCM HTTP v1 with an OAuth access token obtained outside (a sidecar or the platform).
    Fcm {
        base_url: String,
        project_id: String,
        access_token: SecretString,
    },
}

/// Tuning of the event consumer (tests shorten it).
#[derive(Clone, Debug, Default)]
pub struct ConsumerTuning {
    pub block: Option<Duration>,
    pub claim_idle: Option<Duration>,
    pub max_deliveries: Option<u64>,
}

impl ConsumerTuning {
    pub fn apply(&self, config: &mut events::ConsumerConfig) {
        if let Some(block) = self.block {
            config.block = block;
        }
        if let Some(idle) = self.claim_idle {
            config.claim_idle = idle;
        }
        if let Some(max) = self.max_deliveries {
            config.max_deliveries = max;
        }
    }
}

/// Tuning of the sender.
#[derive(Clone, Debug)]
pub struct SenderTuning {
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub poll_interval: Duration,
}

#[derive(Clone, Debug)]
pub struct NotificationConfig {
    pub service: ServiceConfig,
    /// Base URL of the storefront; links in messages point to its pages.
    pub storefront_url: String,
    /// The From of every email.
    pub mail_from: String,
    pub email: EmailSettings,
    pub sms: SmsSettings,
    pub push: PushSettings,
    pub consumer: ConsumerTuning,
    pub sender: SenderTuning,
    pub sms_limits: SmsLimits,
}

impl NotificationConfig {
    /// The declared defaults (log transports) around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        EnvReader::defaults(crate::SERVICE, |env| Self::read(env, Some(service)))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        ServiceConfig::read_with(crate::SERVICE, EnvReader::from_env(), Self::read)
    }

    fn read(env: &mut EnvReader, service: Option<ServiceConfig>) -> Option<Self> {
        let storefront_url: String = env.get(&STOREFRONT_URL);
        let mail_from = env.get(&declared::MAIL_FROM);
        let email = read_email(env);
        let sms = match env.choice(&declared::SMS_TRANSPORT) {
            Some("twilio") => SmsSettings::Twilio {
                base_url: env.get(&declared::TWILIO_BASE_URL),
                account_sid: required_with(env, &declared::TWILIO_ACCOUNT_SID, &declared::SMS_TRANSPORT),
                auth_token: SecretString::from(required_secret_with(
                    env,
                    &declared::TWILIO_AUTH_TOKEN,
                    &declared::SMS_TRANSPORT,
                )),
                from: required_with(env, &declared::TWILIO_FROM, &declared::SMS_TRANSPORT),
            },
            _ => SmsSettings::Log,
        };
        let push = match env.choice(&declared::PUSH_TRANSPORT) {
            Some("fcm") => PushSettings::Fcm {
                base_url: env.get(&declared::FCM_BASE_URL),
                project_id: required_with(env, &declared::FCM_PROJECT_ID, &declared::PUSH_TRANSPORT),
                access_token: SecretString::from(required_secret_with(
                    env,
                    &declared::FCM_ACCESS_TOKEN,
                    &declared::PUSH_TRANSPORT,
                )),
            },
            _ => PushSettings::Log,
        };
        let sender = SenderTuning {
            max_attempts: env.get(&declared::NOTIFY_MAX_ATTEMPTS),
            retry_base: env.millis(&declared::NOTIFY_RETRY_BASE_MS),
            poll_interval: Duration::from_secs(1),
        };
        let sms_limits = SmsLimits {
            per_recipient_day: env.get(&declared::NOTIFY_SMS_PER_RECIPIENT_DAY),
            per_account_day: env.get(&declared::NOTIFY_SMS_PER_ACCOUNT_DAY),
            code_ttl: env.seconds(&declared::PHONE_CODE_TTL_SECS),
            code_interval: env.seconds(&declared::PHONE_CODE_INTERVAL_SECS),
        };
        Some(Self {
            service: service?,
            storefront_url: storefront_url.trim_end_matches('/').to_owned(),
            mail_from,
            email,
            sms,
            push,
            consumer: ConsumerTuning::default(),
            sender,
            sms_limits,
        })
    }

    /// Builds the transports this configuration describes.
    pub fn transports(&self) -> Result<Transports, crate::transport::TransportError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| crate::transport::TransportError::Permanent(e.to_string()))?;
        let email = match &self.email {
            EmailSettings::Log => EmailTransport::Log,
            EmailSettings::File(dir) => EmailTransport::file(dir.clone())?,
            EmailSettings::Smtp(settings) => EmailTransport::smtp(settings)?,
        };
        let sms = match &self.sms {
            SmsSettings::Log => SmsTransport::Log,
            SmsSettings::Twilio { base_url, account_sid, auth_token, from } => SmsTransport::Twilio {
                http: http.clone(),
                base_url: base_url.trim_end_matches('/').to_owned(),
                account_sid: account_sid.clone(),
                auth_token: auth_token.clone(),
                from: from.clone(),
            },
        };
        let push = match &self.push {
            PushSettings::Log => PushTransport::Log,
            PushSettings::Fcm { base_url, project_id, access_token } => PushTransport::Fcm {
                http,
                base_url: base_url.trim_end_matches('/').to_owned(),
                project_id: project_id.clone(),
                access_token: access_token.clone(),
            },
        };
        let from = self
            .mail_from
            .parse()
            .map_err(|e| crate::transport::TransportError::Permanent(format!("MAIL_FROM: {e}")))?;
        Ok(Transports { email, sms, push, from })
    }
}

/// How email leaves (`EMAIL_TRANSPORT` and what each transport needs).
fn read_email(env: &mut EnvReader) -> EmailSettings {
    match env.choice(&declared::EMAIL_TRANSPORT) {
        Some("file") => EmailSettings::File(env.get::<String>(&declared::MAIL_DIR).into()),
        Some("smtp") => {
            let host = required_with(env, &declared::SMTP_HOST, &declared::EMAIL_TRANSPORT);
            let tls = match env.choice(&declared::SMTP_TLS) {
                Some("tls") => SmtpTls::Tls,
                Some("none") => SmtpTls::None,
                _ => SmtpTls::StartTls,
            };
            let default_port = match tls {
                SmtpTls::Tls => 465,
                SmtpTls::StartTls => 587,
                SmtpTls::None => 25,
            };
            EmailSettings::Smtp(SmtpSettings {
                host,
                port: env.parse(&declared::SMTP_PORT).unwrap_or(default_port),
                tls,
                username: env.text(&declared::SMTP_USERNAME),
                password: env.secret(&declared::SMTP_PASSWORD).map(SecretString::from),
                timeout: env.seconds(&declared::SMTP_TIMEOUT_SECS),
            })
        }
        _ => EmailSettings::Log,
    }
}

/// A setting the chosen transport (`choice`) needs.
fn required_with(env: &mut EnvReader, setting: &Setting, choice: &Setting) -> String {
    env.text(setting).unwrap_or_else(|| {
        env.problem(format!("{} is required with this {}", setting.name, choice.name));
        String::new()
    })
}

/// A secret the chosen transport (`choice`) needs.
fn required_secret_with(env: &mut EnvReader, setting: &Setting, choice: &Setting) -> String {
    env.secret(setting).unwrap_or_else(|| {
        env.problem(format!("{} is required with this {}", setting.name, choice.name));
        String::new()
    })
}
