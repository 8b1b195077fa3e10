//! Publishing an event onto a stream as its producer's relay would, for tests of a consumer
//! without running the producer.

/// XADDs `event` (in an envelope from `producer`) to its domain's stream under `prefix`.
pub async fn publish<E: events::Event>(prefix: &str, producer: &str, event: &E) {
    publish_envelope(prefix, E::DOMAIN, &events::Envelope::new(producer, event)).await;
}

/// XADDs `envelope` as it is to its domain's stream under `prefix`: the same envelope twice is
/// what a redelivery looks like to a consumer.
pub async fn publish_envelope(prefix: &str, domain: &str, envelope: &events::Envelope) {
    let mut redis = crate::env().redis.admin().await;
    let _: String = redis::cmd("XADD")
        .arg(events::stream_name(prefix, domain))
        .arg("*")
        .arg("type")
        .arg(&envelope.event_type)
        .arg("envelope")
        .arg(serde_json::to_string(&envelope).expect("an envelope serializes"))
        .query_async(&mut redis)
        .await
        .expect("XADD");
}
