//! Email transports.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::{TransportError, message_id};
use crate::store::DueMessage;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a local relay or a test server only).
    None,
    /// STARTTLS on the submission port, required.
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
}

#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub timeout: Duration,
}

pub enum EmailTransport {
    /// A log line per message, without its content (the default).
    Log,
    /// One `.eml` per message in a directory, named after its Message-ID.
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl EmailTransport {
    pub fn file(dir: PathBuf) -> Result<Self, TransportError> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| TransportError::Permanent(format!("mail dir {}: {e}", dir.display())))?;
        Ok(Self::File(dir))
    }

    pub fn smtp(settings: &SmtpSettings) -> Result<Self, TransportError> {
        let tls_parameters = || {
            TlsParameters::new(settings.host.clone()).map_err(|e| TransportError::Permanent(format!("SMTP TLS: {e}")))
        };
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters()?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self::Smtp(builder.build()))
    }

    pub async fn send(&self, from: &Mailbox, message: &DueMessage) -> Result<String, TransportError> {
        let domain = from.email.domain().to_owned();
        let id = message_id(message, &domain);
        let email = build(from, message, &id)?;
        match self {
            Self::Log => {
                tracing::info!(message_id = %id, kind = %message.kind, "email not sent: the log transport is configured");
                Ok(id)
            }
            Self::File(dir) => {
                let name = format!("{}.{}.eml", message.event_id, message.kind);
                let path = dir.join(name);
                // The directory may have been cleaned up since start; make it again.
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| TransportError::Temporary(format!("mail dir {}: {e}", dir.display())))?;
                tokio::fs::write(&path, email.formatted())
                    .await
                    .map_err(|e| TransportError::Temporary(format!("write {}: {e}", path.display())))?;
                Ok(id)
            }
            Self::Smtp(transport) => match transport.send(email).await {
                Ok(response) => Ok(format!("{id} {}", response.code())),
                Err(error) if error.is_permanent() => Err(TransportError::Permanent(error.to_string())),
                Err(error) => Err(TransportError::Temporary(error.to_string())),
            },
        }
    }
}

fn build(from: &Mailbox, message: &DueMessage, id: &str) -> Result<Message, TransportError> {
    let to: Mailbox = message.recipient.parse().map_err(|e| TransportError::Permanent(format!("recipient: {e}")))?;
    let text = message.body_text.clone().unwrap_or_default();
    let html = message.body_html.clone().unwrap_or_default();
    Message::builder()
        .message_id(Some(id.to_owned()))
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone().unwrap_or_default())
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| TransportError::Permanent(format!("building the email: {e}")))
}
