//! The envelope every event travels in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::Event;

/// An event as it is stored, published and consumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUID v7: unique, and ordered by creation.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u16,
    pub occurred_at: DateTime<Utc>,
    /// The producing service.
    pub producer: String,
    /// The entity the event is about (a user id, an order id).
    pub aggregate_id: String,
    /// The request that caused it, so logs of producer and consumers line up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub payload: serde_json::Value,
}

/// Why an envelope could not be read as a given event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("expected {expected} but the envelope holds {found}")]
    WrongType { expected: &'static str, found: String },
    #[error("{event_type} version {found} is not understood (this build knows version {known})")]
    UnknownVersion { event_type: String, found: u16, known: u16 },
    #[error("the payload of {event_type} does not match its schema: {source}")]
    Payload { event_type: String, source: serde_json::Error },
}

impl Envelope {
    /// Wraps `event` produced by `producer`, with the current request id.
    pub fn new<E: Event>(producer: &str, event: &E) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at: Utc::now(),
            producer: producer.to_owned(),
            aggregate_id: event.aggregate_id(),
            request_id: observability::current_request_id().map(|id| id.as_str().to_owned()),
            payload: serde_json::to_value(event).expect("event payloads serialize"),
        }
    }

    /// The payload as `E`, if this envelope is an `E` of a version this build understands.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if self.event_type != E::TYPE {
            return Err(DecodeError::WrongType { expected: E::TYPE, found: self.event_type.clone() });
        }
        if self.version != E::VERSION {
            return Err(DecodeError::UnknownVersion {
                event_type: self.event_type.clone(),
                found: self.version,
                known: E::VERSION,
            });
        }
        serde_json::from_value(self.payload.clone())
            .map_err(|source| DecodeError::Payload { event_type: self.event_type.clone(), source })
    }

    /// The envelope with the payload fields the catalog marks secret replaced, for logs and
    /// dead letters.
    pub fn redacted(&self) -> serde_json::Value {
        self.redacted_fields(crate::catalog::secret_fields(&self.event_type))
    }

    /// The envelope with `fields` of the payload replaced.
    pub fn redacted_fields(&self, fields: &[&str]) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("envelopes serialize");
        if let Some(payload) = value.get_mut("payload").and_then(|p| p.as_object_mut()) {
            for field in fields {
                if payload.contains_key(*field) {
                    payload.insert((*field).to_owned(), observability::redact::REDACTED.into());
                }
            }
        }
        value
    }
}
