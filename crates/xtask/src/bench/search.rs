//! `cargo xtask bench search`: `GET /api/v1/search?q=<word>&limit=20&facets=true` through NGINX
//! → gateway → search (NGINX caches no search), on the demo catalog, in one run beside NGINX
//! serving the same response bytes as a static file (the edge's ceiling on this machine):
//!
//! - a word typed right, a word with a typo (the fuzzy expansion at work), a two-word query,
//!   and the suggestions for a word's beginning.
//!
//! wrk (two threads, 16 connections), interleaved rounds, medians: req/s, p50/p99 and CPU µs
//! per request of NGINX, the gateway and search. The baseline the issue names is Vendure's
//! default SQL search at about 875 req/s on this kind of machine; it is printed beside ours.

use std::time::Duration;

use crate::bench::catalog::{Scenario, on_bench_fleet, rounds};
use crate::dev::fleet::Fleet;

const PROCESSES: [&str; 3] = ["nginx", "gateway", "search"];
/// Vendure's `search` (its default SQL search) on this kind of machine, as the issue states.
const VENDURE_SEARCH_PER_SECOND: f64 = 875.0;

pub(crate) fn run(root: &std::path::Path) -> anyhow::Result<()> {
    let extra_env = vec![
        (settings::service::gateway::RATE_LIMIT_READ.name.into(), "1000000/1/1000000".into()),
        (settings::shared::RUST_LOG.name.into(), "warn".into()),
    ];
    on_bench_fleet(root, "bench-search", extra_env, async |fleet, static_dir| measure(fleet, static_dir).await)
}

async fn measure(fleet: &Fleet, static_dir: &std::path::Path) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).timeout(Duration::from_secs(10)).build()?;
    let api = format!("{}/api/v1", fleet.nginx_url());
    // The words: the longest word of the first demo product's title, right and with a typo.
    let listing: serde_json::Value = client.get(format!("{api}/products?limit=1")).send().await?.json().await?;
    let title = listing["items"][0]["title"].as_str().ok_or_else(|| anyhow::anyhow!("no demo product"))?.to_owned();
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.len())
        .filter(|w| w.len() >= 5)
        .ok_or_else(|| anyhow::anyhow!("no word of 5 letters in {title:?}"))?
        .to_lowercase();
    let mut typo: Vec<char> = word.chars().collect();
    let at = (1..typo.len() - 1).find(|&i| typo[i] != typo[i + 1]).unwrap_or(1);
    typo.swap(at, at + 1);
    let typo: String = typo.into_iter().collect();
    let two_words = title.to_lowercase().split_whitespace().take(2).collect::<Vec<_>>().join("%20");
    let prefix: String = word.chars().take(3).collect();
    let search = |q: &str| format!("{api}/search?q={q}&limit=20&facets=true");
    // The index is built once the service is ready; wait until it answers with results.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let bytes = loop {
        let response = client.get(search(&word)).send().await?;
        if response.status() == 200 {
            let bytes = response.bytes().await?;
            let page: serde_json::Value = serde_json::from_slice(&bytes)?;
            if page["total"].as_u64() > Some(0) {
                break bytes;
            }
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "search never found {word:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    std::fs::write(static_dir.join("search.json"), &bytes)?;
    let scenario = |name, url: String| Scenario { name, url, token: None, bypass_nginx_cache: false };
    let scenarios = [
        scenario("static file (ceiling)", format!("{}/__bench/search.json", fleet.nginx_url())),
        scenario("one word + facets", search(&word)),
        scenario("one word, a typo + facets", search(&typo)),
        scenario("two words + facets", search(&two_words)),
        scenario("suggest (3 letters)", format!("{api}/search/suggest?q={prefix}")),
    ];
    let pids: Vec<Option<u32>> = PROCESSES.iter().map(|p| fleet.pid(p)).collect();
    let summary = rounds(&client, &scenarios, &pids, None).await?;

    println!();
    println!(
        "search: {} bytes per answer (q={word}, typo q={typo}), 16 connections, 5 interleaved rounds of 3 s, medians (release build)",
        bytes.len()
    );
    println!(
        "  {:<30} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "", "req/s", "p50 ms", "p99 ms", "nginx µs", "gateway", "search", "/ static", "/ Vendure"
    );
    let ceiling = summary[0].0;
    for (scenario, (rps, p50, p99, _, cpu)) in scenarios.iter().zip(summary.iter()) {
        println!(
            "  {:<30} {rps:>9.0} {p50:>8.2} {p99:>8.2} {:>9.1} {:>9.1} {:>9.1} {:>8.1}% {:>9.2}×",
            scenario.name,
            cpu[0],
            cpu[1],
            cpu[2],
            100.0 * rps / ceiling,
            rps / VENDURE_SEARCH_PER_SECOND
        );
    }
    println!(
        "  baseline: Vendure's default SQL search ≈ {VENDURE_SEARCH_PER_SECOND:.0} req/s on this kind of machine (the issue's figure, not measured here)"
    );
    println!();
    Ok(())
}
