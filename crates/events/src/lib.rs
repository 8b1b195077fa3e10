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
pub mod redis_target;
pub mod relay;
pub mod schema;
pub mod wake;

pub use catalog::Event;
pub use consumer::{ConnectError, Consumer, ConsumerConfig, Handled, Handler, HandlerError, IdempotentHandler};
pub use envelope::{DecodeError, Envelope};
pub use metrics::EventMetrics;
pub use outbox::enqueue;
pub use redis_target::{Connection, RedisTarget, Timeouts};
pub use relay::{Relay, RelayConfig};

/// The hash tag every stream of a deployment (of one key prefix) shares: a consumer reads
/// several streams in one XREADGROUP, which a Redis Cluster allows only within one slot.
fn streams_tag(key_prefix: &str) -> String {
    format!("{{{key_prefix}events}}")
}

/// The stream a producing domain publishes to: `{<prefix>events}.<domain>`.
pub fn stream_name(key_prefix: &str, domain: &str) -> String {
    format!("{}.{domain}", streams_tag(key_prefix))
}

/// The dead-letter stream of a consumer group: `{<prefix>events}.dead.<group>`.
pub fn dead_letter_stream(key_prefix: &str, group: &str) -> String {
    format!("{}.dead.{group}", streams_tag(key_prefix))
}

/// The producing domain of a stream named by [`stream_name`].
pub fn stream_domain<'a>(key_prefix: &str, stream: &'a str) -> Option<&'a str> {
    stream.strip_prefix(&streams_tag(key_prefix))?.strip_prefix('.')
}
