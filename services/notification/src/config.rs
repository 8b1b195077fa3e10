//! The notification service's configuration: where links point, how each channel is sent.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use service_kit::{ConfigError, EnvReader, ServiceConfig};

use crate::transport::{EmailTransport, PushTransport, SmsTransport, SmtpSettings, SmtpTls, Transports};

/// How email leaves: `log` (the default: a log line, no content), `file` (one .eml per message,
/// what `cargo xtask up` uses), or `smtp`.
#[derive(Clone, Debug)]
pub enum EmailSettings {
    Log,
    File(PathBuf),
    Smtp(SmtpSettings),
}

#[derive(Clone, Debug)]
pub enum SmsSettings {
    Log,
    /// The Twilio Messages API (`TWILIO_BASE_URL` lets tests point it at a stub).
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

impl Default for SenderTuning {
    fn default() -> Self {
        Self { max_attempts: 8, retry_base: Duration::from_secs(2), poll_interval: Duration::from_secs(1) }
    }
}

/// How many texts may go out (review f5592e3 M3): each number and each account gets at most so
/// many SMS a day, verification codes included; a code lives `code_ttl` and a new one may be
/// asked for only after `code_interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsLimits {
    /// `NOTIFY_SMS_PER_RECIPIENT_DAY` (10).
    pub per_recipient_day: i64,
    /// `NOTIFY_SMS_PER_ACCOUNT_DAY` (10).
    pub per_account_day: i64,
    /// `PHONE_CODE_TTL_SECS` (600).
    pub code_ttl: Duration,
    /// `PHONE_CODE_INTERVAL_SECS` (60).
    pub code_interval: Duration,
}

impl Default for SmsLimits {
    fn default() -> Self {
        Self {
            per_recipient_day: 10,
            per_account_day: 10,
            code_ttl: Duration::from_secs(600),
            code_interval: Duration::from_secs(60),
        }
    }
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
    /// Defaults (log transports) around a shared config.
    pub fn new(service: ServiceConfig) -> Self {
        Self {
            service,
            storefront_url: "http://localhost:3000".into(),
            mail_from: "Shopfleet <no-reply@shopfleet.local>".into(),
            email: EmailSettings::Log,
            sms: SmsSettings::Log,
            push: PushSettings::Log,
            consumer: ConsumerTuning::default(),
            sender: SenderTuning::default(),
            sms_limits: SmsLimits::default(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = EnvReader::from_env();
        let spec = *service_kit::fleet::spec(crate::SERVICE).expect("a fleet service");
        let service = ServiceConfig::read(spec, &mut env);
        let storefront_url = env.optional("STOREFRONT_URL").unwrap_or_else(|| "http://localhost:3000".into());
        let mail_from = env.optional("MAIL_FROM").unwrap_or_else(|| "Shopfleet <no-reply@shopfleet.local>".into());
        let email = match env.optional("EMAIL_TRANSPORT").as_deref() {
            None | Some("log") => EmailSettings::Log,
            Some("file") => EmailSettings::File(env.optional("MAIL_DIR").unwrap_or_else(|| ".dev/mail".into()).into()),
            Some("smtp") => {
                let host = env.required("SMTP_HOST").unwrap_or_default();
                let tls = match env.optional("SMTP_TLS").as_deref() {
                    None | Some("starttls") => SmtpTls::StartTls,
                    Some("tls") => SmtpTls::Tls,
                    Some("none") => SmtpTls::None,
                    Some(other) => {
                        env.problem(format!("SMTP_TLS={other:?} must be none, starttls or tls"));
                        SmtpTls::None
                    }
                };
                let default_port = match tls {
                    SmtpTls::Tls => 465,
                    SmtpTls::StartTls => 587,
                    SmtpTls::None => 25,
                };
                EmailSettings::Smtp(SmtpSettings {
                    host,
                    port: env.parse_or("SMTP_PORT", default_port),
                    tls,
                    username: env.optional("SMTP_USERNAME"),
                    password: env.optional("SMTP_PASSWORD").map(SecretString::from),
                    timeout: Duration::from_secs(env.parse_or("SMTP_TIMEOUT_SECS", 10)),
                })
            }
            Some(other) => {
                env.problem(format!("EMAIL_TRANSPORT={other:?} must be log, file or smtp"));
                EmailSettings::Log
            }
        };
        let sms = match env.optional("SMS_TRANSPORT").as_deref() {
            None | Some("log") => SmsSettings::Log,
            Some("twilio") => SmsSettings::Twilio {
                base_url: env.optional("TWILIO_BASE_URL").unwrap_or_else(|| "https://api.twilio.com".into()),
                account_sid: env.required("TWILIO_ACCOUNT_SID").unwrap_or_default(),
                auth_token: SecretString::from(env.required("TWILIO_AUTH_TOKEN").unwrap_or_default()),
                from: env.required("TWILIO_FROM").unwrap_or_default(),
            },
            Some(other) => {
                env.problem(format!("SMS_TRANSPORT={other:?} must be log or twilio"));
                SmsSettings::Log
            }
        };
        let push = match env.optional("PUSH_TRANSPORT").as_deref() {
            None | Some("log") => PushSettings::Log,
            Some("fcm") => PushSettings::Fcm {
                base_url: env.optional("FCM_BASE_URL").unwrap_or_else(|| "https://fcm.googleapis.com".into()),
                project_id: env.required("FCM_PROJECT_ID").unwrap_or_default(),
                access_token: SecretString::from(env.required("FCM_ACCESS_TOKEN").unwrap_or_default()),
            },
            Some(other) => {
                env.problem(format!("PUSH_TRANSPORT={other:?} must be log or fcm"));
                PushSettings::Log
            }
        };
        let sender = SenderTuning {
            max_attempts: env.parse_or("NOTIFY_MAX_ATTEMPTS", 8),
            retry_base: Duration::from_millis(env.parse_or("NOTIFY_RETRY_BASE_MS", 2_000)),
            poll_interval: Duration::from_secs(1),
        };
        let defaults = SmsLimits::default();
        let sms_limits = SmsLimits {
            per_recipient_day: env.parse_or("NOTIFY_SMS_PER_RECIPIENT_DAY", defaults.per_recipient_day),
            per_account_day: env.parse_or("NOTIFY_SMS_PER_ACCOUNT_DAY", defaults.per_account_day),
            code_ttl: env.seconds_or("PHONE_CODE_TTL_SECS", defaults.code_ttl.as_secs()),
            code_interval: env.seconds_or("PHONE_CODE_INTERVAL_SECS", defaults.code_interval.as_secs()),
        };
        env.finish()?;
        Ok(Self {
            service: service.expect("checked by finish"),
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
