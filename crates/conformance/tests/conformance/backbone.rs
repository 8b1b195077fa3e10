//! The event backbone under crashes and outages: nothing lost, nothing applied twice, poison
//! dead-lettered. Real PostgreSQL and Redis; the outbox and processed-events tables live in a
//! sandbox schema (analytics') of a fresh database.

use std::sync::Arc;
use std::time::Duration;

use events::catalog::UserRegistered;
use events::{
    Consumer, ConsumerConfig, Envelope, EventMetrics, Handled, Handler, HandlerError, IdempotentHandler, Relay,
    RelayConfig,
};
use sqlx::{PgConnection, PgPool};
use testkit::TestDb;
use tokio::sync::watch;
use uuid::Uuid;

const SCHEMA: &str = "analytics";

struct Bench {
    pool: PgPool,
    redis_url: String,
    prefix: String,
    registry: observability::Metrics,
    metrics: EventMetrics,
    _db: TestDb,
}

impl Bench {
    async fn new() -> Self {
        Self::with_redis(testkit::env().redis.url.clone()).await
    }

    async fn with_redis(redis_url: String) -> Self {
        let db = TestDb::new().await;
        let pool = db.pool_as(SCHEMA).await;
        // The backbone's own tables come from the events crate (the consumer makes
        // processed_events when it connects); `applied` is this bench's record of effects.
        events::schema::ensure_outbox(&pool).await.unwrap();
        sqlx::query("create table applied (event_id uuid not null, consumer text not null)")
            .execute(&pool)
            .await
            .unwrap();
        let registry = observability::Metrics::new("backbone-test");
        let metrics = EventMetrics::new(&registry);
        Self { pool, redis_url, prefix: testkit::redis_prefix(), registry, metrics, _db: db }
    }

    /// The run's Redis (a cluster in the cluster pass), or a stand-in's address.
    fn target(&self) -> events::RedisTarget {
        let env = &testkit::env().redis;
        events::RedisTarget::new(&self.redis_url, env.cluster && self.redis_url == env.url)
    }

    async fn redis(&self) -> events::Connection {
        self.target().connect().await.unwrap()
    }

    /// Registers `n` users' events, each in its own transaction.
    async fn produce(&self, n: usize) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for _ in 0..n {
            let mut tx = self.pool.begin().await.unwrap();
            let event = UserRegistered { user_id: Uuid::now_v7().into(), email: "x@example.com".into() };
            ids.push(events::enqueue(&mut tx, "auth", &event).await.unwrap());
            tx.commit().await.unwrap();
        }
        ids
    }

    async fn relay(&self) -> Relay {
        let mut config = RelayConfig::new("auth", SCHEMA, &self.prefix);
        config.poll_interval = Duration::from_millis(100);
        Relay::new(self.pool.clone(), self.redis().await, config, self.metrics.clone())
    }

    fn consumer_config(&self) -> ConsumerConfig {
        let mut config = ConsumerConfig::new("analytics", &self.prefix, &["auth"]);
        config.block = Duration::from_millis(200);
        config.retry_base = Duration::from_millis(20);
        config.retry_max = Duration::from_millis(200);
        config.max_deliveries = 3;
        config
    }

    async fn consumer(&self, config: ConsumerConfig, handler: Arc<dyn Handler>) -> Consumer {
        Consumer::connect(self.pool.clone(), &self.target(), config, handler, self.metrics.clone()).await.unwrap()
    }

    async fn applied(&self) -> Vec<(Uuid, i64)> {
        sqlx::query_as("select event_id, count(*) from applied group by event_id order by event_id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn wait_for_applied(&self, n: usize) -> Vec<(Uuid, i64)> {
        for _ in 0..300 {
            let applied = self.applied().await;
            if applied.len() >= n {
                return applied;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("only {} of {n} events applied", self.applied().await.len());
    }

    async fn pending(&self) -> i64 {
        let mut redis = self.redis().await;
        let stream = events::stream_name(&self.prefix, "auth");
        let summary: redis::Value =
            redis::cmd("XPENDING").arg(&stream).arg("analytics").query_async(&mut redis).await.unwrap();
        match summary {
            redis::Value::Array(items) => match items.first() {
                Some(redis::Value::Int(n)) => *n,
                _ => 0,
            },
            _ => 0,
        }
    }

    fn metric(&self, needle: &str) -> f64 {
        self.registry
            .render()
            .lines()
            .find(|line| line.starts_with(needle))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
}

/// Records each application in `applied`, inside the consumer's transaction.
struct Record(&'static str);

impl Handler for Record {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> events::consumer::HandleFuture<'a> {
        Box::pin(async move {
            event.decode::<UserRegistered>().map_err(HandlerError::new)?;
            sqlx::query("insert into applied (event_id, consumer) values ($1, $2)")
                .bind(event.id)
                .bind(self.0)
                .execute(&mut *tx)
                .await?;
            Ok(Handled::Applied)
        })
    }
}

/// Fails for one event, records the others.
struct FailFor(Uuid);

impl Handler for FailFor {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> events::consumer::HandleFuture<'a> {
        Box::pin(async move {
            if event.id == self.0 {
                return Err(HandlerError::new("this event always fails"));
            }
            Record("one").handle(tx, event).await
        })
    }
}

/// Slow, so a consumer can be killed with entries in hand.
struct Slow;

impl Handler for Slow {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> events::consumer::HandleFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Record("slow").handle(tx, event).await
        })
    }
}

/// The state of a service without a database: a set of user ids (set semantics), plus how
/// often the handler ran, to see redeliveries.
#[derive(Default)]
struct UserSet {
    users: std::sync::Mutex<std::collections::BTreeSet<Uuid>>,
    calls: std::sync::atomic::AtomicUsize,
}

impl IdempotentHandler for UserSet {
    fn handle<'a>(&'a self, event: &'a Envelope) -> events::consumer::HandleFuture<'a> {
        Box::pin(async move {
            let registered: UserRegistered = event.decode()?;
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.users.lock().unwrap().insert(registered.user_id.into());
            Ok(Handled::Applied)
        })
    }
}

fn never() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    // The sender lives as long as the test process, so the receiver never sees a change.
    Box::leak(Box::new(tx));
    rx
}

#[tokio::test]
async fn a_consumer_killed_between_commit_and_ack_gets_the_event_again_and_applies_it_once() {
    let bench = Bench::new().await;
    let produced = bench.produce(1).await;
    bench.relay().await.publish_batch().await.unwrap();

    events::failpoint::arm("consumer.after_commit", &bench.prefix, 1);
    let config = bench.consumer_config();
    let first = bench.consumer(config.clone(), Arc::new(Record("one"))).await.spawn(never());
    tokio::time::timeout(Duration::from_secs(10), first).await.expect("the consumer stops at the failpoint").unwrap();
    assert_eq!(bench.applied().await, vec![(produced[0], 1)], "committed before the crash");
    assert_eq!(bench.pending().await, 1, "but never acknowledged");

    // The restarted consumer (same name) drains its own pending entries first.
    let _again = bench.consumer(config, Arc::new(Record("one"))).await.spawn(never());
    for _ in 0..100 {
        if bench.pending().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bench.pending().await, 0, "redelivered and acknowledged");
    assert_eq!(bench.applied().await, vec![(produced[0], 1)], "applied once in effect");
    assert_eq!(
        bench.metric(r#"events_consumed_total{group="analytics",outcome="duplicate",type="USER_REGISTERED"}"#),
        1.0
    );
}

#[tokio::test]
async fn a_relay_killed_mid_batch_loses_nothing_and_consumers_absorb_the_duplicates() {
    let bench = Bench::new().await;
    let produced = bench.produce(10).await;
    let relay = bench.relay().await;
    events::failpoint::arm("relay.mid_batch", &bench.prefix, 1);
    assert!(relay.publish_batch().await.is_err(), "the relay dies after publishing half the batch");
    let unsent: i64 =
        sqlx::query_scalar("select count(*) from outbox where sent_at is null").fetch_one(&bench.pool).await.unwrap();
    assert_eq!(unsent, 10, "nothing was marked sent");
    assert_eq!(relay.publish_batch().await.unwrap(), 10, "the next run publishes everything");

    let _consumer = bench.consumer(bench.consumer_config(), Arc::new(Record("one"))).await.spawn(never());
    let applied = bench.wait_for_applied(10).await;
    // Evidence that the five duplicates were read too and everything is acknowledged: only then
    // is "applied once" final.
    let duplicates = r#"events_consumed_total{group="analytics",outcome="duplicate",type="USER_REGISTERED"}"#;
    testkit::wait::until("the duplicates consumed and all acknowledged", async || {
        bench.metric(duplicates) >= 5.0 && bench.pending().await == 0
    })
    .await;
    assert_eq!(applied, bench.applied().await);
    let mut expected = produced.clone();
    expected.sort();
    assert_eq!(applied.iter().map(|(id, _)| *id).collect::<Vec<_>>(), expected);
    assert!(applied.iter().all(|(_, n)| *n == 1), "{applied:?}");
    assert_eq!(
        bench.metric(r#"events_consumed_total{group="analytics",outcome="duplicate",type="USER_REGISTERED"}"#),
        5.0
    );
}

#[tokio::test]
async fn a_poison_event_is_dead_lettered_after_n_deliveries_and_later_events_keep_flowing() {
    let bench = Bench::new().await;
    let produced = bench.produce(4).await;
    let poison = produced[1];
    let relay = bench.relay().await;
    relay.publish_batch().await.unwrap();
    let _consumer = bench.consumer(bench.consumer_config(), Arc::new(FailFor(poison))).await.spawn(never());
    bench.wait_for_applied(3).await;
    let later = bench.produce(2).await;
    relay.publish_batch().await.unwrap();
    let applied = bench.wait_for_applied(5).await;
    assert!(!applied.iter().any(|(id, _)| *id == poison));
    assert!(later.iter().all(|id| applied.iter().any(|(a, _)| a == id)), "later events flow");

    let mut redis = bench.redis().await;
    let dead = events::dead_letter_stream(&bench.prefix, "analytics");
    for _ in 0..100 {
        let len: i64 = redis::cmd("XLEN").arg(&dead).query_async(&mut redis).await.unwrap();
        if len > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entries: redis::streams::StreamRangeReply =
        redis::cmd("XRANGE").arg(&dead).arg("-").arg("+").query_async(&mut redis).await.unwrap();
    assert_eq!(entries.ids.len(), 1);
    let error: String = entries.ids[0].get("error").unwrap();
    let original: String = entries.ids[0].get("envelope").unwrap();
    assert_eq!(error, "this event always fails");
    assert!(original.contains(&poison.to_string()));
    assert_eq!(bench.metric(r#"events_dead_lettered_total{group="analytics",type="USER_REGISTERED"}"#), 1.0);
    assert_eq!(
        bench.metric(r#"events_consumed_total{group="analytics",outcome="failed",type="USER_REGISTERED"}"#),
        3.0
    );
    assert_eq!(bench.pending().await, 0);
}

#[tokio::test]
async fn two_replicas_apply_each_event_once_and_a_dead_replicas_entries_are_claimed() {
    let bench = Bench::new().await;
    let produced = bench.produce(60).await;
    let relay = bench.relay().await;
    let mut config = bench.consumer_config();
    config.claim_idle = Duration::from_millis(500);
    config.batch_size = 10;
    let doomed = bench
        .consumer(ConsumerConfig { consumer: "doomed".into(), ..config.clone() }, Arc::new(Slow))
        .await
        .spawn(never());
    let survivor =
        bench.consumer(ConsumerConfig { consumer: "survivor".into(), ..config }, Arc::new(Slow)).await.spawn(never());
    relay.publish_batch().await.unwrap();
    // Kill one replica mid-stream, with entries delivered to it and not yet acknowledged.
    tokio::time::sleep(Duration::from_millis(250)).await;
    doomed.abort();
    let applied = bench.wait_for_applied(60).await;
    testkit::wait::until("every entry acknowledged", async || bench.pending().await == 0).await;
    let applied_again = bench.applied().await;
    assert_eq!(applied, applied_again, "nothing more applied once everything was acknowledged");
    assert!(applied.iter().all(|(_, n)| *n == 1), "{applied:?}");
    let mut expected = produced;
    expected.sort();
    assert_eq!(applied.iter().map(|(id, _)| *id).collect::<Vec<_>>(), expected);
    assert_eq!(bench.pending().await, 0, "the survivor claimed and finished the dead replica's entries");
    survivor.abort();
}

#[tokio::test]
async fn events_written_while_redis_is_down_are_delivered_once_it_is_back() {
    let dir =
        std::env::temp_dir().join(format!("shopfleet-test-{}-outage-{}", std::process::id(), Uuid::new_v4().simple()));
    let port = testkit::unused_port();
    let mut redis_server = testkit::cluster::start_redis(&dir, port, false).unwrap();
    let bench = Bench::with_redis(format!("redis://127.0.0.1:{port}")).await;
    let (stop_tx, stop) = watch::channel(false);
    let relay = bench.relay().await.spawn(stop.clone());
    let consumer = bench.consumer(bench.consumer_config(), Arc::new(Record("one"))).await.spawn(stop.clone());

    testkit::procs::signal_group(&redis_server, 9);
    redis_server.wait().unwrap();
    // The producer's transactions do not depend on Redis.
    let produced = bench.produce(5).await;
    // Evidence that the relay tried while Redis was down (and failed), not just that it had no time.
    testkit::wait::until("the relay failing against the dead Redis", async || {
        bench.metric(r#"events_relay_failures_total{producer="auth"}"#) >= 1.0
    })
    .await;
    assert!(bench.applied().await.is_empty());
    let unsent: i64 =
        sqlx::query_scalar("select count(*) from outbox where sent_at is null").fetch_one(&bench.pool).await.unwrap();
    assert_eq!(unsent, 5, "kept in the outbox while Redis is down");

    let mut redis_again = testkit::cluster::start_redis(&dir, port, false).unwrap();
    let applied = bench.wait_for_applied(5).await;
    assert_eq!(applied.len(), produced.len());
    assert!(applied.iter().all(|(_, n)| *n == 1));

    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        relay.await.unwrap();
        consumer.await.unwrap();
    })
    .await
    .expect("relay and consumer stop on shutdown");
    testkit::procs::signal_group(&redis_again, 9);
    redis_again.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_pending_entry_deleted_from_the_stream_does_not_wedge_its_consumer() {
    let bench = Bench::new().await;
    let first = bench.produce(1).await;
    bench.relay().await.publish_batch().await.unwrap();
    // Deliver it to "crashed" (never acknowledged), then delete it from the stream, as MAXLEN
    // trimming would.
    let stream = events::stream_name(&bench.prefix, "auth");
    let mut redis = bench.redis().await;
    let consumer = bench
        .consumer(ConsumerConfig { consumer: "crashed".into(), ..bench.consumer_config() }, Arc::new(Record("one")))
        .await;
    drop(consumer);
    let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("analytics")
        .arg("crashed")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut redis)
        .await
        .unwrap();
    let id = read.keys[0].ids[0].id.clone();
    let _: i64 = redis::cmd("XDEL").arg(&stream).arg(&id).query_async(&mut redis).await.unwrap();

    // The same consumer comes back, drains its pending list, and goes on with new events.
    let _back = bench
        .consumer(ConsumerConfig { consumer: "crashed".into(), ..bench.consumer_config() }, Arc::new(Record("one")))
        .await
        .spawn(never());
    let later = bench.produce(1).await;
    bench.relay().await.publish_batch().await.unwrap();
    let applied = bench.wait_for_applied(1).await;
    assert_eq!(applied, vec![(later[0], 1)]);
    assert!(!applied.iter().any(|(id, _)| *id == first[0]), "the deleted entry is gone, not applied");
    for _ in 0..50 {
        if bench.pending().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bench.pending().await, 0);
}

#[tokio::test]
async fn a_consumer_without_a_database_acks_only_after_its_idempotent_handler_and_redelivers_after_a_crash() {
    let bench = Bench::new().await;
    bench.produce(3).await;
    bench.relay().await.publish_batch().await.unwrap();
    let state = Arc::new(UserSet::default());
    let config = bench.consumer_config();

    // Dies after the first handler call, before its XACK.
    events::failpoint::arm("consumer.after_commit", &bench.prefix, 1);
    let first = Consumer::connect_idempotent(&bench.target(), config.clone(), state.clone(), bench.metrics.clone())
        .await
        .unwrap()
        .spawn(never());
    tokio::time::timeout(Duration::from_secs(10), first).await.expect("the consumer stops at the failpoint").unwrap();
    assert_eq!(state.users.lock().unwrap().len(), 1, "applied before the crash");
    assert_eq!(bench.pending().await, 3, "nothing acknowledged: one was in hand, two were read with it");

    let _again = Consumer::connect_idempotent(&bench.target(), config, state.clone(), bench.metrics.clone())
        .await
        .unwrap()
        .spawn(never());
    for _ in 0..200 {
        if bench.pending().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bench.pending().await, 0, "every entry acknowledged after the restart");
    assert_eq!(state.users.lock().unwrap().len(), 3, "each user once: the set absorbed the redelivery");
    assert_eq!(state.calls.load(std::sync::atomic::Ordering::SeqCst), 4, "the entry in hand was handled again");
}

#[tokio::test]
async fn an_envelope_on_a_stream_that_is_not_its_producers_is_dead_lettered_unapplied() {
    // Review M8: a service that can write to another's stream must not be able to forge its events.
    let bench = Bench::new().await;
    let forged =
        Envelope::new("cart", &UserRegistered { user_id: Uuid::now_v7().into(), email: "x@example.com".into() });
    let mut redis = bench.redis().await;
    let _: String = redis::cmd("XADD")
        .arg(events::stream_name(&bench.prefix, "auth"))
        .arg("*")
        .arg("type")
        .arg("USER_REGISTERED")
        .arg("envelope")
        .arg(serde_json::to_string(&forged).unwrap())
        .query_async(&mut redis)
        .await
        .unwrap();
    let _consumer = bench.consumer(bench.consumer_config(), Arc::new(Record("one"))).await.spawn(never());
    testkit::wait::until("the forged entry dead-lettered", async || {
        bench.metric(r#"events_dead_lettered_total{group="analytics",type="USER_REGISTERED"}"#) >= 1.0
    })
    .await;
    assert!(bench.applied().await.is_empty(), "never applied");
    assert_eq!(bench.pending().await, 0, "and acknowledged, so later events flow");
}

/// Records nothing and wants no event type.
struct WantsNothing;

impl Handler for WantsNothing {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> events::consumer::HandleFuture<'a> {
        Box::pin(async move { Record("unwanted").handle(tx, event).await })
    }

    fn wants(&self, _event_type: &str) -> bool {
        false
    }
}

#[tokio::test]
async fn events_a_handler_does_not_want_are_acknowledged_without_a_transaction() {
    let bench = Bench::new().await;
    bench.produce(3).await;
    bench.relay().await.publish_batch().await.unwrap();
    let _consumer = bench.consumer(bench.consumer_config(), Arc::new(WantsNothing)).await.spawn(never());
    testkit::wait::until("the three are acknowledged", || async {
        bench.metric(r#"events_consumed_total{group="analytics",outcome="ignored",type="USER_REGISTERED"}"#) == 3.0
    })
    .await;
    assert_eq!(bench.pending().await, 0);
    assert!(bench.applied().await.is_empty(), "the handler never ran");
    let recorded: i64 =
        sqlx::query_scalar("select count(*) from processed_events").fetch_one(&bench.pool).await.unwrap();
    assert_eq!(recorded, 0, "nothing recorded: no transaction was opened");
}

/// Review f5592e3 L7: envelopes carry emails and addresses, so a stream keeps an entry about a
/// week (`RelayConfig::stream_retention`), not until a million newer ones push it out; the relay
/// trims by age as it publishes.
#[tokio::test]
async fn the_relay_trims_entries_past_their_retention_as_it_publishes() {
    let bench = Bench::new().await;
    let stream = events::stream_name(&bench.prefix, "auth");
    let mut redis = bench.redis().await;
    // An entry from long ago (its id is its time), and one from an hour ago.
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    for id in ["1000-0".to_owned(), format!("{hour_ago}-0")] {
        let _: String =
            redis::cmd("XADD").arg(&stream).arg(&id).arg("envelope").arg("{}").query_async(&mut redis).await.unwrap();
    }
    bench.produce(1).await;
    assert_eq!(bench.relay().await.publish_batch().await.unwrap(), 1);
    let ids: Vec<String> = {
        let entries: redis::streams::StreamRangeReply =
            redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query_async(&mut redis).await.unwrap();
        entries.ids.into_iter().map(|entry| entry.id).collect()
    };
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], format!("{hour_ago}-0"), "the old entry is gone, the recent one stays");
}
