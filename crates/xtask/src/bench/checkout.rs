//! `cargo xtask bench checkout`: N concurrent shoppers run the whole saga through NGINX with
//! the sandbox provider (add to cart → place the order → start the payment → confirm with the
//! test card → poll until the order is paid), on release binaries; paid orders per second and
//! p50/p99 of every step, CPU per paid order (the machine's and each saga service's). In the
//! same run, `pgbench -b tpcb-like` on the same PostgreSQL cluster gives the baseline the ratio
//! is taken against (target ≥ 0.1 × its tps), and the audit checks the shop afterwards (target:
//! zero violations). `BENCH_SHOPPERS` (16) and `BENCH_ORDERS` (200) size it.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;

use crate::bench::gateway::{cpu_ticks, ticks_per_second};
use crate::dev::fleet::{Fleet, build_args, throwaway_options};
use crate::dev::shopper::Shopper;

const STEPS: [&str; 5] = ["add to cart", "place order", "start payment", "confirm", "until paid"];

/// How often a shopper asks whether the order is paid yet.
const POLL: Duration = Duration::from_millis(100);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Busy ticks of the whole machine (`/proc/stat`: everything but idle and iowait).
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    fields.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum()
}

/// CPU ticks of every process whose command name is one of `names` (PostgreSQL's backends,
/// Redis).
fn ticks_of_commands(names: &[&str]) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if names.contains(&comm.trim()) {
            total += cpu_ticks(pid);
        }
    }
    total
}

/// PostgreSQL's busiest statements of the run: (calls per paid order, ms per call, query).
async fn busiest_statements(db: &mut sqlx::PgConnection) -> anyhow::Result<Vec<(i64, f64, String)>> {
    Ok(sqlx::query_as(
        "select calls, mean_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) from pg_stat_statements \
         where query !~* '^(begin|commit|rollback)' order by total_exec_time desc limit 8",
    )
    .fetch_all(db)
    .await?)
}

/// One shopper's sagas: the duration of each step of each.
async fn sagas(shopper: Shopper, name: usize, skus: Vec<String>, count: usize) -> anyhow::Result<Vec<[Duration; 5]>> {
    let mut timings = Vec::with_capacity(count);
    for n in 0..count {
        let sku = &skus[(name * 7 + n) % skus.len()];
        let key = format!("bench-{name}-{n}");
        let mut steps = [Duration::ZERO; 5];
        let timed = Instant::now();
        let (status, body) =
            shopper.call(Method::POST, "/carts/current/items", None, Some(json!({"sku": sku, "quantity": 1}))).await?;
        ensure!(status == 200, "add to cart: {status} {body}");
        steps[0] = timed.elapsed();
        let timed = Instant::now();
        let place = json!({"shipping_address_id": shopper.address_id});
        let (status, order) = shopper.call(Method::POST, "/orders", Some(&key), Some(place)).await?;
        ensure!(status == 201, "place: {status} {order}");
        steps[1] = timed.elapsed();
        let order_id = order["id"].as_str().context("an order id")?.to_owned();
        let timed = Instant::now();
        let (status, payment) =
            shopper.call(Method::POST, "/payments", Some(&key), Some(json!({"order_id": order_id}))).await?;
        ensure!(status == 201, "start payment: {status} {payment}");
        steps[2] = timed.elapsed();
        let timed = Instant::now();
        let path = format!("/payments/{}/confirm", payment["payment_id"].as_str().context("a payment id")?);
        let (status, body) =
            shopper.call(Method::POST, &path, None, Some(json!({"test_card": "4242424242424242"}))).await?;
        ensure!(status == 202, "confirm: {status} {body}");
        steps[3] = timed.elapsed();
        let timed = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, order) = shopper.call(Method::GET, &format!("/orders/{order_id}"), None, None).await?;
            if order["status"] == "paid" {
                break;
            }
            ensure!(Instant::now() < deadline, "order {order_id} not paid after a minute: {order}");
            // A storefront's polling pace: each poll is a request through the whole stack,
            // and faster polling would be most of what is measured.
            tokio::time::sleep(POLL).await;
        }
        steps[4] = timed.elapsed();
        timings.push(steps);
    }
    Ok(timings)
}

/// `pgbench -b tpcb-like` on the fleet's cluster (its own database): transactions per second.
fn pgbench(fleet: &Fleet, clients: usize) -> anyhow::Result<f64> {
    let bin = testkit::cluster::pg_bin();
    let port = fleet.options.pg_port.to_string();
    let base = ["-h", "127.0.0.1", "-p", port.as_str(), "-U", "postgres"];
    let created = Command::new(bin.join("createdb")).args(base).arg("pgbench").output()?;
    ensure!(created.status.success(), "createdb pgbench: {}", String::from_utf8_lossy(&created.stderr));
    let init = Command::new(bin.join("pgbench")).args(base).args(["-i", "-q", "-s", "10", "pgbench"]).output()?;
    ensure!(init.status.success(), "pgbench -i: {}", String::from_utf8_lossy(&init.stderr));
    let clients = clients.to_string();
    let run = Command::new(bin.join("pgbench"))
        .args(base)
        .args(["-b", "tpcb-like", "-c", clients.as_str(), "-j", "2", "-T", "20", "pgbench"])
        .output()?;
    ensure!(run.status.success(), "pgbench: {}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = ").and_then(|rest| rest.split_whitespace().next()?.parse().ok()))
        .with_context(|| format!("no tps in pgbench's output:\n{text}"))
}

/// Each step's p50 and p99, and the whole saga's.
fn print_step_latencies(timings: &[[Duration; 5]]) {
    eprintln!("    {:<14} {:>9} {:>9}", "step", "p50 ms", "p99 ms");
    for (index, step) in STEPS.iter().enumerate() {
        let mut samples: Vec<Duration> = timings.iter().map(|t| t[index]).collect();
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)].as_secs_f64() * 1e3;
        eprintln!("    {step:<14} {:>9.1} {:>9.1}", at(0.5), at(0.99));
    }
    let mut whole: Vec<Duration> = timings.iter().map(|t| t.iter().sum()).collect();
    whole.sort();
    eprintln!(
        "    {:<14} {:>9.1} {:>9.1}",
        "whole saga",
        whole[whole.len() / 2].as_secs_f64() * 1e3,
        whole[(whole.len() * 99 / 100).min(whole.len() - 1)].as_secs_f64() * 1e3
    );
}

/// PostgreSQL's statements and transactions per paid order, and its busiest statements.
async fn print_postgres(db: &mut sqlx::PgConnection, paid: f64, transactions_before: i64) -> anyhow::Result<()> {
    let (statements, transactions): (i64, i64) = sqlx::query_as(
        "select (select coalesce(sum(calls), 0)::int8 from pg_stat_statements), \
                (select xact_commit + xact_rollback from pg_stat_database where datname = current_database())",
    )
    .fetch_one(&mut *db)
    .await?;
    eprintln!(
        "    PostgreSQL per paid order: {:.0} statements, {:.0} transactions since the start of the run",
        statements as f64 / paid,
        (transactions - transactions_before) as f64 / paid
    );
    eprintln!("    PostgreSQL's busiest statements (calls per paid order, mean ms):");
    for (calls, mean_ms, query) in busiest_statements(&mut *db).await? {
        eprintln!("      {:>6.1} × {mean_ms:>6.3} ms  {query}", calls as f64 / paid);
    }
    Ok(())
}

/// What the machine burns per second while the fleet does nothing (ms of CPU per second).
async fn idle_burn() -> f64 {
    let idle_from = (machine_busy_ticks(), Instant::now());
    tokio::time::sleep(Duration::from_secs(3)).await;
    (machine_busy_ticks() - idle_from.0) as f64 * 1e3 / ticks_per_second() / idle_from.1.elapsed().as_secs_f64()
}

/// `count` shoppers, signed up one after the other.
async fn sign_up(fleet: &Fleet, count: usize) -> anyhow::Result<Vec<Shopper>> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).pool_max_idle_per_host(64).build()?;
    let mut signed_up = Vec::new();
    for _ in 0..count {
        signed_up.push(Shopper::sign_up(fleet, &http).await?);
    }
    Ok(signed_up)
}

async fn measure(fleet: &mut Fleet) -> anyhow::Result<()> {
    let (shoppers, orders) = (env_or("BENCH_SHOPPERS", 16).max(1), env_or("BENCH_ORDERS", 200).max(1));
    let mut db = sqlx::PgConnection::connect(&fleet.admin_database_url()).await?;
    let skus: Vec<String> = sqlx::query_scalar("select sku from inventory.stock where on_hand >= 50 order by sku")
        .fetch_all(&mut db)
        .await?;
    let signed_up = sign_up(fleet, shoppers).await?;
    let watched = ["gateway", "cart", "order", "payment", "inventory", "product", "user", "notification", "nginx"];
    let pids: Vec<(&str, Option<u32>)> = watched.iter().map(|name| (*name, fleet.pid(name))).collect();
    let before: Vec<u64> = pids.iter().map(|(_, pid)| pid.map(cpu_ticks).unwrap_or(0)).collect();
    // What the fleet burns doing nothing (relays' backstop polls, consumers, sweepers), so the
    // per-order figure below can be read against it.
    let idle_ms_per_s = idle_burn().await;
    let machine_before = machine_busy_ticks();
    let stores = ["postgres", "redis-server"];
    let stores_before: Vec<u64> = stores.iter().map(|name| ticks_of_commands(&[name])).collect();
    sqlx::query("create extension if not exists pg_stat_statements").execute(&mut db).await?;
    sqlx::query("select pg_stat_statements_reset()").execute(&mut db).await?;
    let transactions_before: i64 = sqlx::query_scalar(
        "select xact_commit + xact_rollback from pg_stat_database where datname = current_database()",
    )
    .fetch_one(&mut db)
    .await?;
    eprintln!(
        "==> {shoppers} shoppers, {orders} sagas through NGINX (sandbox provider, polling the order every {} ms)",
        POLL.as_millis()
    );
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (name, shopper) in signed_up.into_iter().enumerate() {
        let count = orders / shoppers + usize::from(name < orders % shoppers);
        tasks.spawn(sagas(shopper, name, skus.clone(), count));
    }
    let mut timings = Vec::new();
    while let Some(done) = tasks.join_next().await {
        timings.extend(done??);
    }
    let elapsed = started.elapsed();
    let machine = (machine_busy_ticks() - machine_before) as f64;
    let after: Vec<u64> = pids.iter().map(|(_, pid)| pid.map(cpu_ticks).unwrap_or(0)).collect();
    let stores_after: Vec<u64> = stores.iter().map(|name| ticks_of_commands(&[name])).collect();
    let paid = timings.len() as f64;
    let per_second = paid / elapsed.as_secs_f64();
    let ms_per_tick = 1e3 / ticks_per_second();

    eprintln!("    {} paid orders in {:.1} s: {per_second:.1} paid orders/s", timings.len(), elapsed.as_secs_f64());
    print_step_latencies(&timings);
    eprintln!(
        "    CPU per paid order: machine {:.1} ms (all processes: PostgreSQL, Redis and this load generator \
         included; idle, the fleet burns {idle_ms_per_s:.0} ms/s, {:.1} ms per paid order at this rate)",
        machine * ms_per_tick / paid,
        idle_ms_per_s / per_second
    );
    let by_service: BTreeMap<&str, f64> = pids
        .iter()
        .zip(before.iter().zip(&after))
        .map(|((name, _), (b, a))| (*name, (a - b) as f64 * ms_per_tick / paid))
        .collect();
    let listed: Vec<String> = by_service.iter().map(|(name, ms)| format!("{name} {ms:.2}")).collect();
    eprintln!("    CPU per paid order by process (ms): {}", listed.join(", "));
    let listed: Vec<String> = stores
        .iter()
        .zip(stores_before.iter().zip(&stores_after))
        .map(|(name, (b, a))| format!("{name} {:.2}", a.saturating_sub(*b) as f64 * ms_per_tick / paid))
        .collect();
    eprintln!("    CPU per paid order in the stores (ms; backends still running): {}", listed.join(", "));
    print_postgres(&mut db, paid, transactions_before).await?;

    eprintln!("==> pgbench -b tpcb-like on the same cluster ({shoppers} clients, 20 s, scale 10)");
    let tps = pgbench(fleet, shoppers)?;
    eprintln!("    pgbench: {tps:.0} tps");
    eprintln!(
        "    paid orders/s ÷ pgbench TPC-B tps = {per_second:.1} ÷ {tps:.0} = {:.3} (target ≥ 0.1)",
        per_second / tps
    );
    let violations = crate::ops::audit::audit(&fleet.admin_database_url(), Duration::from_secs(30)).await?;
    crate::ops::audit::report(&violations, "the benchmark's shop")
}

pub(crate) fn run(root: &std::path::Path) -> anyhow::Result<()> {
    let mut build = crate::cargo();
    build.current_dir(root).args(build_args()).arg("--release");
    crate::run_step("cargo build --release (service binaries)", &mut build)?;
    let mut options = throwaway_options("bench-checkout", true)?;
    options.extra_env = crate::dev::shopper::LOADED_SHOP
        .iter()
        .filter(|(k, _)| k.starts_with("RATE_LIMIT"))
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain([(settings::shared::RUST_LOG.name.to_owned(), "warn".to_owned())])
        .collect();
    // SAFETY: single-threaded here, before any thread that reads the environment starts.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("NGINX_RATE_PER_SECOND", "1000000");
        std::env::set_var("NGINX_RATE_BURST", "1000000");
    }
    let run_dir = options.run_dir.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(async move {
        let mut fleet = Fleet::start(options).await?;
        let result = measure(&mut fleet).await;
        drop(fleet);
        result
    });
    let _ = std::fs::remove_dir_all(&run_dir);
    outcome
}

use sqlx::Connection as _;
