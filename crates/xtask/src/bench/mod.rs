//! `cargo xtask bench events`: the event backbone measured against the bare transport, in one
//! run on one machine, so the ratio means something where absolute numbers do not.
//!
//! - backbone: a transaction that enqueues into the outbox → relay (NOTIFY-woken) → XADD →
//!   consumer XREADGROUP → handler transaction with the processed-events record → XACK;
//! - raw: XADD → XREADGROUP → XACK on the same Redis, nothing else.
//!
//! Latency is measured at a steady, unsaturated rate; throughput with producers going flat out.

pub(crate) mod catalog;
pub(crate) mod checkout;
pub(crate) mod gateway;
pub(crate) mod search;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use events::catalog::UserRegistered;
use events::consumer::HandleFuture;
use events::{Consumer, ConsumerConfig, Envelope, EventMetrics, Handled, Handler, Relay, RelayConfig};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgConnection, PgPool};
use testkit::cluster::{start_postgres, start_redis};
use testkit::procs::signal_group;

const LATENCY_EVENTS: usize = 1_000;
const LATENCY_SPACING: Duration = Duration::from_millis(2);
const THROUGHPUT_EVENTS: usize = 5_000;
const PRODUCERS: usize = 8;

pub(crate) fn run(root: &std::path::Path, what: &[String]) -> anyhow::Result<()> {
    match what.first().map(String::as_str) {
        Some("events") => events_bench(),
        Some("gateway") => crate::bench::gateway::run(root),
        Some("catalog") => crate::bench::catalog::run(root),
        Some("checkout") => crate::bench::checkout::run(root),
        Some("search") => crate::bench::search::run(root),
        None => {
            events_bench()?;
            crate::bench::gateway::run(root)?;
            crate::bench::catalog::run(root)?;
            crate::bench::search::run(root)?;
            crate::bench::checkout::run(root)
        }
        Some(other) => anyhow::bail!("unknown benchmark {other:?}; known: events, gateway, catalog, search, checkout"),
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Stats { p50: at(0.50), p99: at(0.99) }
}

/// When an event occurred and when it reached its handler.
type Arrival = (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);

/// Records when each event reached its handler.
struct Clock {
    seen: Arc<Mutex<Vec<Arrival>>>,
}

impl Handler for Clock {
    fn handle<'a>(&'a self, _tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            self.seen.lock().expect("samples").push((event.occurred_at, chrono::Utc::now()));
            Ok(Handled::Applied)
        })
    }
}

fn events_bench() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("shopfleet-bench-{}", std::process::id()));
    let pg_port = testkit::unused_port();
    let redis_port = testkit::unused_port();
    let mut postgres = start_postgres(&dir.join("pg"), pg_port, false)?;
    let mut redis = start_redis(&dir.join("redis"), redis_port, false)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(async {
        let redis_url = format!("redis://127.0.0.1:{redis_port}");
        let pool = bench_pool(pg_port).await?;
        let backbone = backbone(&pool, &redis_url).await?;
        let raw = raw(&redis_url).await?;
        report(&backbone, &raw);
        anyhow::Ok(())
    });
    for child in [&mut postgres, &mut redis] {
        signal_group(child, libc::SIGTERM);
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn bench_pool(pg_port: u16) -> anyhow::Result<PgPool> {
    let admin = format!("postgres://postgres@127.0.0.1:{pg_port}/postgres");
    let mut conn = bootstrap::admin::connect(&admin).await?;
    conn.execute("create schema if not exists bench").await?;
    let options: PgConnectOptions = admin.parse()?;
    let pool =
        PgPoolOptions::new().max_connections(16).connect_with(options.options([("search_path", "bench")])).await?;
    // The backbone's own tables, as every producer and consumer gets them.
    events::schema::ensure_outbox(&pool).await?;
    events::schema::ensure_processed_events(&pool).await?;
    Ok(pool)
}

struct Measured {
    latency: Stats,
    per_second: f64,
}

async fn produce(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let event = UserRegistered { user_id: uuid::Uuid::now_v7().into(), email: "bench@example.com".into() };
    events::enqueue(&mut tx, "auth", &event).await?;
    tx.commit().await?;
    Ok(())
}

async fn wait_for(seen: &Mutex<Vec<impl Sized>>, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.lock().expect("samples").len() < n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} events arrived",
            seen.lock().expect("samples").len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn backbone(pool: &PgPool, redis_url: &str) -> anyhow::Result<Measured> {
    let registry = observability::Metrics::new("bench");
    let metrics = EventMetrics::new(&registry);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let target = events::RedisTarget::single(redis_url);
    let manager = target.connect().await?;
    let mut relay_config = RelayConfig::new("auth", "bench", "bench:");
    relay_config.poll_interval = Duration::from_millis(500);
    let relay = Relay::new(pool.clone(), manager, relay_config, metrics.clone()).spawn(stop.clone());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut consumer_config = ConsumerConfig::new("bench", "bench:", &["auth"]);
    consumer_config.block = Duration::from_millis(500);
    let consumer =
        Consumer::connect(pool.clone(), &target, consumer_config, Arc::new(Clock { seen: seen.clone() }), metrics)
            .await?
            .spawn(stop.clone());

    for _ in 0..LATENCY_EVENTS {
        produce(pool).await?;
        tokio::time::sleep(LATENCY_SPACING).await;
    }
    wait_for(&seen, LATENCY_EVENTS).await?;
    let latencies: Vec<Duration> =
        seen.lock().expect("samples").iter().map(|(at, got)| (*got - *at).to_std().unwrap_or_default()).collect();

    seen.lock().expect("samples").clear();
    let started = Instant::now();
    let mut producers = Vec::new();
    for _ in 0..PRODUCERS {
        let pool = pool.clone();
        producers.push(tokio::spawn(async move {
            for _ in 0..THROUGHPUT_EVENTS / PRODUCERS {
                produce(&pool).await?;
            }
            anyhow::Ok(())
        }));
    }
    for producer in producers {
        producer.await.context("producer task")??;
    }
    wait_for(&seen, THROUGHPUT_EVENTS / PRODUCERS * PRODUCERS).await?;
    let per_second = (THROUGHPUT_EVENTS / PRODUCERS * PRODUCERS) as f64 / started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let _ = tokio::join!(relay, consumer);
    Ok(Measured { latency: stats(latencies), per_second })
}

/// A shopper registered and signed in for a benchmark that only reads (no verified email
/// needed): the credentials (to sign in again under load) and the access token.
pub(crate) async fn signed_in(client: &reqwest::Client, api: &str) -> anyhow::Result<(serde_json::Value, String)> {
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let credentials = serde_json::json!({"email": email, "password": "benchmark password"});
    client.post(format!("{api}/auth/register")).json(&credentials).send().await?;
    let login: serde_json::Value =
        client.post(format!("{api}/auth/login")).json(&credentials).send().await?.json().await?;
    let access = login["access_token"].as_str().ok_or_else(|| anyhow::anyhow!("login failed: {login}"))?.to_owned();
    Ok((credentials, access))
}

/// The bare transport's stream of the raw benchmark.
const RAW_STREAM: &str = "raw:events";

/// One entry of the raw stream, stamped with its send time (nanoseconds since `origin`).
async fn raw_send(producer: &mut redis::aio::ConnectionManager, origin: Instant) -> anyhow::Result<()> {
    let t = origin.elapsed().as_nanos() as u64;
    let _: String = redis::cmd("XADD")
        .arg(RAW_STREAM)
        .arg("*")
        .arg("t")
        .arg(t)
        .arg("envelope")
        .arg("{}")
        .query_async(producer)
        .await?;
    Ok(())
}

/// The raw stream's one reader: reads in batches, acknowledges each entry, and records how long
/// each took from its send, until `stop`.
fn raw_reader(
    mut reader: redis::aio::ConnectionManager,
    origin: Instant,
    mut stop: tokio::sync::watch::Receiver<bool>,
    seen: Arc<Mutex<Vec<Duration>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !*stop.borrow_and_update() {
            let read: redis::RedisResult<Option<redis::streams::StreamReadReply>> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg("g")
                .arg("c")
                .arg("COUNT")
                .arg(64)
                .arg("BLOCK")
                .arg(200)
                .arg("STREAMS")
                .arg(RAW_STREAM)
                .arg(">")
                .query_async(&mut reader)
                .await;
            for key in read.ok().flatten().map(|r| r.keys).unwrap_or_default() {
                for entry in key.ids {
                    let sent_nanos: u64 = entry.get("t").unwrap_or(0);
                    let now = origin.elapsed().as_nanos() as u64;
                    seen.lock().expect("samples").push(Duration::from_nanos(now.saturating_sub(sent_nanos)));
                    let _: redis::RedisResult<i64> =
                        redis::cmd("XACK").arg(RAW_STREAM).arg("g").arg(&entry.id).query_async(&mut reader).await;
                }
            }
        }
    })
}

async fn raw(redis_url: &str) -> anyhow::Result<Measured> {
    let client = redis::Client::open(redis_url)?;
    let mut producer = redis::aio::ConnectionManager::new(client.clone()).await?;
    let config = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(Duration::from_secs(5)));
    let mut reader = redis::aio::ConnectionManager::new_with_config(client, config).await?;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(RAW_STREAM)
        .arg("g")
        .arg("$")
        .arg("MKSTREAM")
        .query_async(&mut reader)
        .await?;
    let seen = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let origin = Instant::now();
    let reader_task = raw_reader(reader, origin, stop, seen.clone());
    for _ in 0..LATENCY_EVENTS {
        raw_send(&mut producer, origin).await?;
        tokio::time::sleep(LATENCY_SPACING).await;
    }
    wait_for(&seen, LATENCY_EVENTS).await?;
    let latencies = std::mem::take(&mut *seen.lock().expect("samples"));

    let started = Instant::now();
    let mut producers = Vec::new();
    for _ in 0..PRODUCERS {
        let mut producer = producer.clone();
        producers.push(tokio::spawn(async move {
            for _ in 0..THROUGHPUT_EVENTS / PRODUCERS {
                raw_send(&mut producer, origin).await?;
            }
            anyhow::Ok(())
        }));
    }
    for producer in producers {
        producer.await.context("producer task")??;
    }
    wait_for(&seen, THROUGHPUT_EVENTS / PRODUCERS * PRODUCERS).await?;
    let per_second = (THROUGHPUT_EVENTS / PRODUCERS * PRODUCERS) as f64 / started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let _ = reader_task.await;
    Ok(Measured { latency: stats(latencies), per_second })
}

fn report(backbone: &Measured, raw: &Measured) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!(
        "events: publish → consume, {LATENCY_EVENTS} events at one per {LATENCY_SPACING:?}; throughput {THROUGHPUT_EVENTS} events from {PRODUCERS} producers"
    );
    println!("  {:<34} {:>10} {:>10} {:>14}", "", "p50 ms", "p99 ms", "events/s");
    println!(
        "  {:<34} {:>10.2} {:>10.2} {:>14.0}",
        "outbox + relay + stream + consumer",
        ms(backbone.latency.p50),
        ms(backbone.latency.p99),
        backbone.per_second
    );
    println!(
        "  {:<34} {:>10.2} {:>10.2} {:>14.0}",
        "raw XADD → XREADGROUP → XACK",
        ms(raw.latency.p50),
        ms(raw.latency.p99),
        raw.per_second
    );
    println!(
        "  {:<34} {:>10.1}x {:>9.1}x {:>13.2}x",
        "backbone / raw",
        ms(backbone.latency.p50) / ms(raw.latency.p50).max(1e-6),
        ms(backbone.latency.p99) / ms(raw.latency.p99).max(1e-6),
        backbone.per_second / raw.per_second.max(1e-6)
    );
    println!();
}
