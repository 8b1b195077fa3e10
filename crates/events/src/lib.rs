//! The event backbone (DESIGN §6): a producer writes its state change and the event into its own
//! outbox table in one transaction; a relay moves outbox rows to the producer's Redis stream; a
//! consumer group per consuming service applies each event in a transaction that also records
//! the event id, so a redelivered event is a no-op, then acknowledges it. Nothing is lost while
//! Redis or a consumer is down (it is late), nothing is applied twice, and what cannot be applied
//! ends in a dead-letter stream with its error.

pub mod audit;
pub mod catalog;
pub mod consumer;
mod envelope;
pub mod failpoint;
mod metrics;
pub mod outbox;
pub mod relay;
pub mod schema;
pub mod wake;

pub use catalog::Event;
pub use consumer::{ConnectError, Consumer, ConsumerConfig, Handled, Handler, HandlerError, IdempotentHandler};
pub use envelope::{DecodeError, Envelope};
pub use metrics::EventMetrics;
pub use outbox::enqueue;
pub use relay::{Relay, RelayConfig};

/// The stream a producing domain publishes to: `<prefix>events.<domain>`.
pub fn stream_name(key_prefix: &str, domain: &str) -> String {
    format!("{key_prefix}events.{domain}")
}

/// The dead-letter stream of a consumer group: `<prefix>events.dead.<group>`.
pub fn dead_letter_stream(key_prefix: &str, group: &str) -> String {
    format!("{key_prefix}events.dead.{group}")
}
