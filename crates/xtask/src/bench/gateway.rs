//! `cargo xtask bench gateway`: what the edge costs, for `GET /products/{slug}`:
//! (a) straight to the product service with an internal token the bench minted once,
//! (b) NGINX → gateway → product, anonymous,
//! (c) the same with an access token (verify, revocation + rate limit in one Redis call,
//!     internal token from the cache).
//! The three are interleaved over several rounds and medians reported, since 2 shared cores are
//! noisy. CPU time per request of NGINX, the gateway and product comes from /proc over each run.
//! Finally the catalog is measured again while logins run flat out.
//!
//! Release binaries are built first (a few minutes the first time).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::dev::fleet::{Fleet, build_args, throwaway_options};

const ROUNDS: usize = 5;
const RUN: Duration = Duration::from_secs(3);
const CONCURRENCY: usize = 8;

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_us: [f64; 3],
}

pub(crate) fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12) // utime + stime
}

pub(crate) fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

async fn load(client: &reqwest::Client, url: &str, token: Option<&str>, pids: [Option<u32>; 3]) -> anyhow::Result<Run> {
    let before: Vec<u64> = pids.iter().map(|p| p.map(cpu_ticks).unwrap_or(0)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let client = client.clone();
        let url = url.to_owned();
        let token = token.map(str::to_owned);
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let mut request = client.get(&url);
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                let t = Instant::now();
                let response = request.send().await?;
                anyhow::ensure!(response.status() == 200, "{url}: {}", response.status());
                response.bytes().await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    let after: Vec<u64> = pids.iter().map(|p| p.map(cpu_ticks).unwrap_or(0)).collect();
    latencies.sort();
    let n = latencies.len().max(1);
    let us_per_tick = 1e6 / ticks_per_second();
    let cpu = |i: usize| (after[i] - before[i]) as f64 * us_per_tick / n as f64;
    Ok(Run {
        per_second: n as f64 / elapsed.as_secs_f64(),
        p50: latencies[n / 2],
        p99: latencies[(n * 99 / 100).min(n - 1)],
        cpu_us: [cpu(0), cpu(1), cpu(2)],
    })
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

pub(crate) fn run(root: &std::path::Path) -> anyhow::Result<()> {
    let mut build = crate::cargo();
    build.current_dir(root).args(build_args()).arg("--release");
    crate::run_step("cargo build --release (service binaries)", &mut build)?;
    let mut options = throwaway_options("bench-gateway", true)?;
    options.log_format = "json";
    options.extra_env = vec![
        (settings::service::gateway::RATE_LIMIT_READ.name.into(), "1000000/1/1000000".into()),
        (settings::service::gateway::RATE_LIMIT_CREDENTIALS.name.into(), "1000000/1/1000000".into()),
        (settings::shared::RUST_LOG.name.into(), "warn".into()),
    ];
    // Passed through to the services, to compare runtime sizes.
    if let Ok(threads) = std::env::var(settings::shared::TOKIO_WORKER_THREADS.name) {
        options.extra_env.push((settings::shared::TOKIO_WORKER_THREADS.name.into(), threads));
    }
    // NGINX's coarse per-IP limit would cap a one-machine benchmark.
    // SAFETY: single-threaded here, before any thread that reads the environment starts.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("NGINX_RATE_PER_SECOND", "1000000");
        std::env::set_var("NGINX_RATE_BURST", "1000000");
    }
    let run_dir = options.run_dir.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(async move {
        let fleet = Fleet::start(options).await?;
        let result = measure(&fleet).await;
        drop(fleet);
        result
    });
    let _ = std::fs::remove_dir_all(&run_dir);
    outcome
}

/// The medians of each scenario's rounds, their ratios and the edge's added latency.
fn print_summary(names: &[&str], runs: &[Vec<Run>], metrics_before: (u64, u64), metrics_after: (u64, u64)) {
    let summary: Vec<(f64, f64, f64, [f64; 3])> = runs
        .iter()
        .map(|r| {
            (
                median(r.iter().map(|x| x.per_second).collect()),
                median(r.iter().map(|x| x.p50.as_secs_f64() * 1e3).collect()),
                median(r.iter().map(|x| x.p99.as_secs_f64() * 1e3).collect()),
                [0, 1, 2].map(|i| median(r.iter().map(|x| x.cpu_us[i]).collect())),
            )
        })
        .collect();
    println!();
    println!(
        "gateway: GET /products/{{slug}}, {CONCURRENCY} connections, {ROUNDS} interleaved rounds of {RUN:?}, medians (release build)"
    );
    println!(
        "  {:<34} {:>9} {:>8} {:>8} {:>13} {:>13} {:>13}",
        "", "req/s", "p50 ms", "p99 ms", "nginx µs/req", "gateway µs/req", "product µs/req"
    );
    for (name, (rps, p50, p99, cpu)) in names.iter().zip(&summary) {
        println!("  {name:<34} {rps:>9.0} {p50:>8.2} {p99:>8.2} {:>13.1} {:>13.1} {:>13.1}", cpu[0], cpu[1], cpu[2]);
    }
    let (a, b, c) = (&summary[0], &summary[1], &summary[2]);
    println!(
        "  throughput b/a {:.2}, c/a {:.2}; p50 added by the edge: b−a {:.2} ms, c−a {:.2} ms",
        b.0 / a.0,
        c.0 / a.0,
        b.1 - a.1,
        c.1 - a.1
    );
    let cached = metrics_after.0.saturating_sub(metrics_before.0);
    let signed = metrics_after.1.saturating_sub(metrics_before.1);
    println!(
        "  internal tokens from the gateway's cache: {:.2}% ({cached} cached, {signed} signed)",
        100.0 * cached as f64 / (cached + signed).max(1) as f64
    );
}

/// The catalog (b) while logins run flat out (argon2 on the auth service's blocking threads).
async fn catalog_under_logins(
    client: &reqwest::Client,
    api: &str,
    credentials: &serde_json::Value,
    edge: &str,
    pids: [Option<u32>; 3],
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(AtomicU64::new(0));
    let mut loggers = Vec::new();
    for _ in 0..4 {
        let (client, api, credentials, stop, logins) =
            (client.clone(), api.to_owned(), credentials.clone(), stop.clone(), logins.clone());
        loggers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(response) = client.post(format!("{api}/auth/login")).json(&credentials).send().await
                    && response.status() == 200
                {
                    logins.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    let under_load = load(client, edge, None, pids).await?;
    stop.store(true, Ordering::Relaxed);
    for logger in loggers {
        let _ = logger.await;
    }
    println!(
        "  catalog (b) while logins run: p50 {:.2} ms, p99 {:.2} ms, {:.0} req/s; {:.1} logins/s completed",
        under_load.p50.as_secs_f64() * 1e3,
        under_load.p99.as_secs_f64() * 1e3,
        under_load.per_second,
        logins.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn measure(fleet: &Fleet) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).timeout(Duration::from_secs(10)).build()?;
    let api = format!("{}/api/v1", fleet.nginx_url());
    let (_, page): (u16, serde_json::Value) = get_json(&client, &format!("{api}/products?limit=1"), None).await?;
    let slug = page["items"][0]["slug"].as_str().ok_or_else(|| anyhow::anyhow!("no product"))?.to_owned();
    let (credentials, access) = super::signed_in(&client, &api).await?;

    let keys = bootstrap::keys::FleetKeys::load(&fleet.options.keys_dir)?;
    let minter = internal_token::Minter::new("gateway", keys.internal_private("gateway"), 60)?;
    let internal = minter.mint("product", &internal_token::Subject::anonymous()).to_string();

    let pids = [fleet.pid("nginx"), fleet.pid("gateway"), fleet.pid("product")];
    let direct = format!("{}/products/{slug}", fleet.service_url("product"));
    let edge = format!("{api}/products/{slug}");
    let scenarios: [(&str, &str, Option<&str>); 3] = [
        ("(a) direct to product", &direct, Some(&internal)),
        ("(b) nginx+gateway, anonymous", &edge, None),
        ("(c) nginx+gateway, access token", &edge, Some(&access)),
    ];
    // Warm up every path (connection pools, caches).
    for (_, url, token) in &scenarios {
        let _ = load_briefly(&client, url, *token).await;
    }
    let metrics_before = gateway_token_counts(fleet).await;
    let mut runs: Vec<Vec<Run>> = (0..3).map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for (index, (name, url, token)) in scenarios.iter().enumerate() {
            let run = load(&client, url, *token, pids).await?;
            eprintln!(
                "    round {} {name}: {:.0} req/s, p50 {:.2} ms",
                round + 1,
                run.per_second,
                run.p50.as_secs_f64() * 1e3
            );
            runs[index].push(run);
        }
    }
    let metrics_after = gateway_token_counts(fleet).await;

    let names: Vec<&str> = scenarios.iter().map(|(name, _, _)| *name).collect();
    print_summary(&names, &runs, metrics_before, metrics_after);
    catalog_under_logins(&client, &api, &credentials, &edge, pids).await?;
    println!("  goals: gateway ≤ 60 µs CPU per authenticated request, ≤ 0.2 ms added at p50");
    println!();
    Ok(())
}

async fn load_briefly(client: &reqwest::Client, url: &str, token: Option<&str>) -> anyhow::Result<()> {
    for _ in 0..200 {
        let mut request = client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await?.bytes().await?;
    }
    Ok(())
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    Ok((response.status().as_u16(), response.json().await?))
}

/// (from cache, signed) internal tokens as the gateway's /metrics counts them.
async fn gateway_token_counts(fleet: &Fleet) -> (u64, u64) {
    let text = reqwest::get(format!("{}/metrics", fleet.service_url("gateway"))).await.ok();
    let text = match text {
        Some(response) => response.text().await.unwrap_or_default(),
        None => String::new(),
    };
    let count = |source: &str| {
        text.lines()
            .find(|l| l.starts_with("gateway_internal_tokens_total") && l.contains(&format!("source=\"{source}\"")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0) as u64
    };
    (count("cache"), count("signed"))
}
