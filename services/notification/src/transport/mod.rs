//! Transports by channel. Email: `log`, `file` (.eml files) or `smtp` (lettre). SMS: `log` or the
//! Twilio Messages API. Push: `log` or FCM HTTP v1. A transport error is temporary (retried) or
//! permanent (the message fails at once).

mod email;
mod http;

pub use email::{EmailTransport, SmtpSettings, SmtpTls};
pub use http::{PushTransport, SmsTransport};
use lettre::message::Mailbox;

use crate::store::{Channel, DueMessage};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("temporary: {0}")]
    Temporary(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

/// The Message-ID of the message an event produced: the same on every retry and redelivery,
/// so receivers (and our own record) can tell a repeat from a new message.
pub fn message_id(message: &DueMessage, domain: &str) -> String {
    format!("<{}.{}@{domain}>", message.event_id, message.kind)
}

pub struct Transports {
    pub email: EmailTransport,
    pub sms: SmsTransport,
    pub push: PushTransport,
    pub from: Mailbox,
}

impl Transports {
    /// Sends through the message's channel; returns the provider's id for it.
    pub async fn send(&self, message: &DueMessage) -> Result<String, TransportError> {
        match Channel::parse(&message.channel) {
            Some(Channel::Email) => self.email.send(&self.from, message).await,
            Some(Channel::Sms) => self.sms.send(message).await,
            Some(Channel::Push) => self.push.send(message).await,
            None => Err(TransportError::Permanent(format!("unknown channel {}", message.channel))),
        }
    }
}
