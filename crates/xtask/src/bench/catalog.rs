//! `cargo xtask bench catalog`: the storefront's listing through NGINX → gateway → product, in
//! one run beside NGINX serving the same response bytes as a static file (the edge's physical
//! ceiling on this machine):
//!
//! - static: the listing's bytes from disk (`/__bench/`);
//! - warm: `GET /api/v1/products?limit=20` anonymous (NGINX's micro-cache, then the product's
//!   Redis cache behind it), and a filtered listing with facets;
//! - warm, signed in: the same with an access token (NGINX's cache bypassed; gateway and the
//!   product's Redis cache do the work);
//! - cold: the product restarted with `CATALOG_CACHE=off`, NGINX's micro-cache bypassed (an
//!   `X-Cart-Token` header, which the catalog ignores): every request reaches PostgreSQL.
//!
//! The load comes from wrk (C; two threads, 16 connections). Interleaved rounds, medians; req/s, p50/p99, SQL statements per request (pg_stat_statements,
//! the product's role, the event machinery left out) and CPU µs per request of NGINX, the
//! gateway, product and Redis. Release binaries are built first.

use std::time::Duration;

use sqlx::Connection;

use crate::bench::gateway::{cpu_ticks, median, ticks_per_second};
use crate::dev::fleet::{DATABASE, Fleet, build_args, throwaway_options};

const ROUNDS: usize = 5;
const RUN: Duration = Duration::from_secs(3);
const CONCURRENCY: usize = 16;
const WRK_THREADS: usize = 2;
const PROCESSES: [&str; 4] = ["nginx", "gateway", "product", "redis"];

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    statements: f64,
    cpu_us: Vec<f64>,
}

/// How a scenario's requests look.
#[derive(Clone)]
pub(crate) struct Scenario {
    pub name: &'static str,
    pub url: String,
    pub token: Option<String>,
    /// Send an `X-Cart-Token`: NGINX's micro-cache is bypassed (and stores nothing), while the
    /// call stays anonymous for the gateway and the product (which ignores the header).
    pub bypass_nginx_cache: bool,
}

async fn statements(admin_url: &str, role: &str) -> anyhow::Result<u64> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    let calls: Option<i64> = sqlx::query_scalar(
        "select sum(calls)::int8 from pg_stat_statements s join pg_database d on d.oid = s.dbid \
         where d.datname = current_database() and s.userid = $1::regrole \
           and s.query !~* '(outbox|processed_events|pg_notify|listen|pg_stat)' \
           and s.query !~* '^(begin|commit|rollback)$'",
    )
    .bind(role)
    .fetch_one(&mut admin)
    .await?;
    Ok(calls.unwrap_or(0) as u64)
}

/// A duration as wrk prints it (`850.00us`, `1.23ms`, `2.00s`).
fn wrk_duration(text: &str) -> Option<Duration> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| Duration::from_secs_f64(n * scale))
}

/// Runs wrk for one scenario: (requests, req/s, p50, p99).
fn wrk(scenario: &Scenario) -> anyhow::Result<(u64, f64, Duration, Duration)> {
    let mut command = std::process::Command::new("wrk");
    command.args(["-t", &WRK_THREADS.to_string(), "-c", &CONCURRENCY.to_string(), "-d"]);
    command.arg(format!("{}s", RUN.as_secs())).arg("--latency");
    if let Some(token) = &scenario.token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    if scenario.bypass_nginx_cache {
        command.args(["-H", "X-Cart-Token: benchmark"]);
    }
    let output = command.arg(&scenario.url).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    anyhow::ensure!(!text.contains("Non-2xx"), "{}: some answers were not 2xx:\n{text}", scenario.name);
    let mut requests = 0;
    let mut per_second = 0.0;
    let (mut p50, mut p99) = (Duration::ZERO, Duration::ZERO);
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => p50 = wrk_duration(value).unwrap_or_default(),
            ["99%", value] => p99 = wrk_duration(value).unwrap_or_default(),
            ["Requests/sec:", value] => per_second = value.parse().unwrap_or(0.0),
            [count, "requests", "in", ..] => requests = count.parse().unwrap_or(0),
            _ => {}
        }
    }
    anyhow::ensure!(requests > 0, "{}: wrk measured nothing:\n{text}", scenario.name);
    Ok((requests, per_second, p50, p99))
}

/// SQL statements of a role (pg_stat_statements), when the scenario's service has one.
async fn statements_of(pg: Option<(&str, &str)>) -> anyhow::Result<u64> {
    match pg {
        Some((url, role)) => statements(url, role).await,
        None => Ok(0),
    }
}

async fn load(scenario: &Scenario, pids: &[Option<u32>], pg: Option<(&str, &str)>) -> anyhow::Result<Run> {
    let before: Vec<u64> = pids.iter().map(|p| p.map(cpu_ticks).unwrap_or(0)).collect();
    let statements_before = statements_of(pg).await?;
    let scenario = scenario.clone();
    let (requests, per_second, p50, p99) = tokio::task::spawn_blocking(move || wrk(&scenario)).await??;
    let after: Vec<u64> = pids.iter().map(|p| p.map(cpu_ticks).unwrap_or(0)).collect();
    let statements_after = statements_of(pg).await?;
    let n = requests.max(1) as f64;
    let us_per_tick = 1e6 / ticks_per_second();
    Ok(Run {
        per_second,
        p50,
        p99,
        statements: statements_after.saturating_sub(statements_before) as f64 / n,
        cpu_us: before.iter().zip(&after).map(|(b, a)| (a - b) as f64 * us_per_tick / n).collect(),
    })
}

pub(crate) fn run(root: &std::path::Path) -> anyhow::Result<()> {
    let extra_env = vec![
        (settings::service::gateway::RATE_LIMIT_READ.name.into(), "1000000/1/1000000".into()),
        (settings::service::gateway::RATE_LIMIT_CREDENTIALS.name.into(), "1000000/1/1000000".into()),
        (settings::shared::RUST_LOG.name.into(), "warn".into()),
    ];
    on_bench_fleet(root, "bench-catalog", extra_env, async |fleet, static_dir| measure(fleet, static_dir).await)
}

/// Builds the release binaries and runs `body` on a throwaway fleet whose NGINX also serves a
/// directory (its second argument) at `/__bench/`, with NGINX's per-IP limit raised so that a
/// one-machine load is not capped; wrk is installed when missing.
pub(crate) fn on_bench_fleet(
    root: &std::path::Path,
    purpose: &str,
    extra_env: Vec<(String, String)>,
    body: impl AsyncFnOnce(&mut Fleet, &std::path::Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    crate::dev::install::ensure_wrk()?;
    let mut build = crate::cargo();
    build.current_dir(root).args(build_args()).arg("--release");
    crate::run_step("cargo build --release (service binaries)", &mut build)?;
    let mut options = throwaway_options(purpose, true)?;
    let static_dir = options.run_dir.join("bench-static");
    std::fs::create_dir_all(&static_dir)?;
    options.bench_static_dir = Some(static_dir.clone());
    options.extra_env = extra_env;
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
        let result = body(&mut fleet, &static_dir).await;
        drop(fleet);
        result
    });
    let _ = std::fs::remove_dir_all(&run_dir);
    outcome
}

/// Medians of a scenario's rounds: req/s, p50 ms, p99 ms, SQL per request, CPU µs per request
/// of each watched process.
pub(crate) type Summary = (f64, f64, f64, f64, Vec<f64>);

/// Warms every scenario, then runs them in interleaved rounds; the medians of each.
pub(crate) async fn rounds(
    client: &reqwest::Client,
    scenarios: &[Scenario],
    pids: &[Option<u32>],
    pg: Option<(&str, &str)>,
) -> anyhow::Result<Vec<Summary>> {
    for scenario in scenarios {
        // Warm connections, caches and statement plans.
        for _ in 0..200 {
            let mut request = client.get(&scenario.url);
            if let Some(token) = &scenario.token {
                request = request.bearer_auth(token);
            }
            if scenario.bypass_nginx_cache {
                request = request.header("x-cart-token", "benchmark");
            }
            request.send().await?.bytes().await?;
        }
    }
    let mut runs: Vec<Vec<Run>> = scenarios.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for (index, scenario) in scenarios.iter().enumerate() {
            let run = load(scenario, pids, pg).await?;
            eprintln!(
                "    round {} {}: {:.0} req/s, p50 {:.2} ms",
                round + 1,
                scenario.name,
                run.per_second,
                run.p50.as_secs_f64() * 1e3
            );
            runs[index].push(run);
        }
    }
    Ok(runs
        .iter()
        .map(|r| {
            (
                median(r.iter().map(|x| x.per_second).collect()),
                median(r.iter().map(|x| x.p50.as_secs_f64() * 1e3).collect()),
                median(r.iter().map(|x| x.p99.as_secs_f64() * 1e3).collect()),
                median(r.iter().map(|x| x.statements).collect()),
                (0..pids.len()).map(|i| median(r.iter().map(|x| x.cpu_us[i]).collect())).collect(),
            )
        })
        .collect())
}

async fn measure(fleet: &mut Fleet, static_dir: &std::path::Path) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).timeout(Duration::from_secs(10)).build()?;
    let api = format!("{}/api/v1", fleet.nginx_url());
    let listing = format!("{api}/products?limit=20");
    let filtered = format!("{api}/products?category=apparel&attr.color=black&facets=true&limit=20");
    let bytes = client.get(&listing).send().await?.bytes().await?;
    std::fs::write(static_dir.join("products.json"), &bytes)?;
    let (_, access) = super::signed_in(&client, &api).await?;

    let admin_url = format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", fleet.options.pg_port);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
    sqlx::query("create extension if not exists pg_stat_statements").execute(&mut admin).await?;
    let role =
        service_kit::fleet::spec("product").and_then(|s| s.db_role()).ok_or_else(|| anyhow::anyhow!("product role"))?;
    let pg = Some((admin_url.as_str(), role.as_str()));

    let scenario = |name, url: &str, token: Option<&str>, bypass_nginx_cache| Scenario {
        name,
        url: url.to_owned(),
        token: token.map(str::to_owned),
        bypass_nginx_cache,
    };
    let static_url = format!("{}/__bench/products.json", fleet.nginx_url());
    let warm = [
        scenario("static file (ceiling)", &static_url, None, false),
        scenario("warm listing, anonymous", &listing, None, false),
        scenario("warm filtered + facets, anon.", &filtered, None, false),
        scenario("warm listing, signed in", &listing, Some(&access), false),
    ];
    let pids: Vec<Option<u32>> = PROCESSES.iter().map(|p| fleet.pid(p)).collect();
    let warm_summary = rounds(&client, &warm, &pids, pg).await?;

    // The same edge with the product's cache off and NGINX's bypassed: every request reaches
    // PostgreSQL.
    fleet.restart_with("product", &[(settings::service::product::CATALOG_CACHE.name, "off")]).await?;
    let pids: Vec<Option<u32>> = PROCESSES.iter().map(|p| fleet.pid(p)).collect();
    let cold = [
        scenario("static file (ceiling)", &static_url, None, false),
        scenario("cold listing (no cache)", &listing, None, true),
        scenario("cold filtered + facets", &filtered, None, true),
    ];
    let cold_summary = rounds(&client, &cold, &pids, pg).await?;

    println!();
    println!(
        "catalog: {} bytes per listing, {CONCURRENCY} connections, {ROUNDS} interleaved rounds of {RUN:?}, medians (release build)",
        bytes.len()
    );
    println!(
        "  {:<32} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "req/s", "p50 ms", "p99 ms", "SQL/req", "nginx µs", "gateway", "product", "redis", "/ static"
    );
    for (scenarios, summary) in [(&warm[..], &warm_summary), (&cold[..], &cold_summary)] {
        let ceiling = summary[0].0;
        for (scenario, (rps, p50, p99, sql, cpu)) in scenarios.iter().zip(summary.iter()) {
            println!(
                "  {:<32} {rps:>9.0} {p50:>8.2} {p99:>8.2} {sql:>8.2} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8.1}%",
                scenario.name,
                cpu[0],
                cpu[1],
                cpu[2],
                cpu[3],
                100.0 * rps / ceiling
            );
        }
    }
    println!(
        "  targets: warm anonymous listing ≥ 20% of the static ceiling (measured {:.1}%); gateway ≤ 60 µs CPU per warm request (anonymous {:.1}, signed in {:.1})",
        100.0 * warm_summary[1].0 / warm_summary[0].0,
        warm_summary[1].4[1],
        warm_summary[3].4[1]
    );
    println!();
    Ok(())
}
