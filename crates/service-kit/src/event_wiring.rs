//! Wiring a service into the event backbone: its outbox relay and its consumer, each started,
//! checked by `/ready` (consumers) and stopped with the service. Every producer and consumer
//! starts them the same way, so the way lives here once.

use std::sync::Arc;

use events::{Consumer, ConsumerConfig, EventMetrics, Handler, IdempotentHandler, Relay, RelayConfig};
use sqlx::PgPool;

use crate::service::{Context, Redis, StartError};

impl<Db> Context<Db, Redis> {
    /// A consumer configuration for this service's group over the streams of `domains`.
    pub fn consumer_config(&self, domains: &[&str]) -> ConsumerConfig {
        ConsumerConfig::new(self.config.name(), &self.redis.prefix, domains)
    }

    /// Records the domains `config` reads as this service's consumer's (for a consumer the
    /// service runs itself, like search's after its index build).
    pub fn record_consumer(&self, config: &ConsumerConfig) {
        let prefix = &self.redis.prefix;
        let domains = config.streams.iter().filter_map(|stream| events::stream_domain(prefix, stream));
        self.background.record_consumer(domains.map(str::to_owned));
    }

    /// Runs a consumer whose handler is idempotent by construction (a service without a
    /// database), registers its readiness, stops it with the service.
    pub async fn spawn_idempotent_consumer(
        &mut self,
        config: ConsumerConfig,
        handler: Arc<dyn IdempotentHandler>,
        metrics: EventMetrics,
    ) -> Result<(), StartError> {
        self.record_consumer(&config);
        let consumer = Consumer::connect_idempotent(&self.redis.target, config, handler, metrics)
            .await
            .map_err(|e| StartError::part("event consumer", e))?;
        self.add_check(consumer.readiness(self.redis.connection.clone()));
        self.background.add(consumer.spawn(self.background.stop_signal()));
        Ok(())
    }
}

impl Context<PgPool, Redis> {
    /// Starts the relay that moves this service's outbox to its stream (making the outbox
    /// first), stopped with the service.
    pub async fn spawn_relay(&mut self, metrics: EventMetrics) -> Result<(), StartError> {
        let config = RelayConfig::new(self.config.name(), self.schema(), &self.redis.prefix);
        let relay = Relay::start(self.db.clone(), self.redis.connection.clone(), config, metrics)
            .await
            .map_err(|e| StartError::part("event outbox", e))?;
        self.background.add(relay.spawn(self.background.stop_signal()));
        self.background.record_relay();
        Ok(())
    }

    /// Runs a consumer applying each event in a transaction with its processed-event record,
    /// registers its readiness, stops it with the service.
    pub async fn spawn_consumer(
        &mut self,
        config: ConsumerConfig,
        handler: Arc<dyn Handler>,
        metrics: EventMetrics,
    ) -> Result<(), StartError> {
        self.record_consumer(&config);
        let consumer = Consumer::connect(self.db.clone(), &self.redis.target, config, handler, metrics)
            .await
            .map_err(|e| StartError::part("event consumer", e))?;
        self.add_check(consumer.readiness(self.redis.connection.clone()));
        self.background.add(consumer.spawn(self.background.stop_signal()));
        Ok(())
    }
}
