//! The edges of the shop: request ids in the services' logs, what NGINX refuses and trusts, the
//! OpenAPI document and its reference, every service's operational routes and probe, the
//! gateway's trust in X-Real-IP, and each service's own Redis user.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};
use service_kit::SERVICES;

use super::{Walk, until};
use crate::dev::api::answer;

/// Whether `SHOPFLEET_ALLOW_SKIP` names `check`.
fn skip_allowed(check: &str) -> bool {
    std::env::var("SHOPFLEET_ALLOW_SKIP").is_ok_and(|v| v.split(',').any(|s| s == check))
}

impl Walk<'_> {
    /// The request id sent through NGINX appears in the product service's log line of that
    /// request.
    pub(super) async fn request_id_logged(&self) -> anyhow::Result<()> {
        let what = format!("request id {} not in the product service's log", self.request_id);
        until(Duration::from_secs(5), Duration::from_millis(100), &what, async |_| {
            let log = std::fs::read_to_string(self.fleet.log_path("product"))?;
            Ok(log
                .lines()
                .any(|line| {
                    serde_json::from_str::<Value>(line).is_ok_and(|v| {
                        v["request_id"] == self.request_id.as_str() && v["route"] == "/products" && v["status"] == 200
                    })
                })
                .then_some(()))
        })
        .await?;
        eprintln!("    request id {} found in product's log: ok", self.request_id);
        Ok(())
    }

    /// A bad token is refused even on a public route; NGINX hides metrics and internal paths;
    /// a spoofed CF-Connecting-IP from a peer outside Cloudflare's ranges is ignored.
    pub(super) async fn nginx_edges(&self) -> anyhow::Result<()> {
        let (status, _) = answer(self.api.get("/products").bearer_auth("not.a.token")).await?;
        ensure!(status == 401, "a bad token on a public route: {status}");
        for path in ["/metrics", "/api/v1/internal/keys", "/api/v1/products/../internal/x", "/api/v1/%69nternal/x"] {
            let response = self.api.http().get(format!("{}{path}", self.fleet.nginx_url())).send().await?;
            ensure!(response.status() == 404, "{path} through NGINX: {}", response.status());
        }
        eprintln!("    NGINX refuses /metrics and /internal: ok");

        let spoof_id = format!("spoof-{}", uuid::Uuid::new_v4().simple());
        let spoofed = self.api.get("/products?limit=1").header("cf-connecting-ip", "203.0.113.9");
        spoofed.header("x-request-id", &spoof_id).send().await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let access = std::fs::read_to_string(self.fleet.options.run_dir.join("nginx/access.log"))?;
        let line = access.lines().find(|l| l.contains(&spoof_id)).context("access log line of the spoof request")?;
        let line: Value = serde_json::from_str(line).context("the access log is JSON")?;
        ensure!(line["client_ip"] == "127.0.0.1", "CF-Connecting-IP from a non-Cloudflare peer is ignored: {line}");
        eprintln!("    JSON access log, CF-Connecting-IP trusted only from Cloudflare: ok");
        Ok(())
    }

    /// The API's OpenAPI document (validated) and its reference, through NGINX, each under its
    /// own Content-Security-Policy.
    pub(super) async fn openapi(&self) -> anyhow::Result<()> {
        let csp = |response: &reqwest::Response| {
            response.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
        };
        let spec = self.api.get("/openapi.json").send().await?;
        ensure!(spec.status() == 200, "GET /api/v1/openapi.json: {}", spec.status());
        ensure!(csp(&spec).contains("default-src 'none'"), "the API keeps its strict CSP: {}", csp(&spec));
        let document: Value = spec.json().await?;
        ensure!(document["openapi"] == "3.1.0", "an OpenAPI 3.1 document");
        ensure!(document["paths"].get("/api/v1/auth/login").is_some(), "the document describes /api/v1/auth/login");
        validate_openapi(&document, &self.fleet.options.run_dir)?;
        let docs = self.api.http().get(format!("{}/api/docs/", self.fleet.nginx_url())).send().await?;
        ensure!(docs.status() == 200, "GET /api/docs/: {}", docs.status());
        let docs_csp = csp(&docs);
        ensure!(
            docs_csp.contains("script-src 'self'") && !docs_csp.contains("https:"),
            "the reference's CSP: {docs_csp}"
        );
        let page = docs.text().await?;
        ensure!(
            page.contains("swagger-ui") && !page.contains("https://"),
            "the reference loads nothing from elsewhere"
        );
        let initializer = format!("{}/api/docs/swagger-initializer.js", self.fleet.nginx_url());
        let initializer = self.api.http().get(initializer).send().await?;
        ensure!(initializer.status() == 200, "the reference's own script: {}", initializer.status());
        ensure!(initializer.text().await?.contains("/api/v1/openapi.json"), "the reference points at the document");
        eprintln!("    OpenAPI document (validated) and the API reference at /api/docs with its own CSP: ok");
        Ok(())
    }

    /// Every service's `/health`, `/ready` and `/metrics` (promtool-checked: `cargo xtask test`
    /// installs it, and skipping must be asked for), and each binary's own probe (what a
    /// container's health check runs): healthy against its instance, not against a dead port.
    pub(super) async fn operational_routes(&self) -> anyhow::Result<()> {
        let promtool = std::process::Command::new("promtool").arg("--version").output().is_ok();
        if !promtool {
            ensure!(
                skip_allowed("promtool"),
                "promtool is missing (Debian package prometheus); set SHOPFLEET_ALLOW_SKIP=promtool to skip"
            );
            eprintln!("    SKIPPED: the promtool check of /metrics (SHOPFLEET_ALLOW_SKIP=promtool)");
        }
        for spec in SERVICES {
            let base = self.fleet.service_url(spec.name);
            for path in ["/health", "/ready", "/metrics"] {
                let response = self.api.http().get(format!("{base}{path}")).send().await?;
                ensure!(response.status() == 200, "{} {path}: {}", spec.name, response.status());
                if path == "/metrics" {
                    let text = response.text().await?;
                    ensure!(text.contains("http_requests_total"), "{} exports http_requests_total", spec.name);
                    if promtool {
                        check_with_promtool(spec.name, &text)?;
                    }
                }
            }
        }
        let checked = if promtool { " (promtool-checked)" } else { "" };
        eprintln!("    /health, /ready and /metrics of all {} services: ok{checked}", SERVICES.len());
        for spec in SERVICES {
            let bind = self.fleet.service_url(spec.name).trim_start_matches("http://").to_owned();
            let probe = |addr: &str| {
                std::process::Command::new(self.fleet.options.bin_dir.join(spec.name))
                    .arg("healthcheck")
                    .env(settings::shared::BIND_ADDR.name, addr)
                    .output()
            };
            let healthy = probe(&bind)?;
            ensure!(
                healthy.status.success(),
                "{} healthcheck: {}",
                spec.name,
                String::from_utf8_lossy(&healthy.stderr)
            );
            let nowhere = format!("127.0.0.1:{}", crate::dev::ports::unreserved_port()?);
            ensure!(!probe(&nowhere)?.status.success(), "{} healthcheck passes with nothing listening", spec.name);
        }
        eprintln!(
            "    `<service> healthcheck` of every binary: healthy against its instance, not against a dead port: ok"
        );
        Ok(())
    }

    /// A caller reaching the gateway's port directly is not NGINX, so the X-Real-IP it sends is
    /// not believed (review M2). Late in the walk: it spends this machine's credential budget.
    pub(super) async fn gateway_trusts_only_nginx(&self) -> anyhow::Result<()> {
        let login = format!("{}/api/v1/auth/login", self.fleet.service_url("gateway"));
        let mut statuses = Vec::new();
        for n in 0..25 {
            let response = self
                .api
                .http()
                .post(&login)
                .header("x-real-ip", format!("198.51.100.{n}"))
                .json(&json!({"email": "nobody@example.com", "password": "wrong password 123"}))
                .send()
                .await?;
            statuses.push(response.status().as_u16());
        }
        ensure!(statuses.contains(&429), "spoofed X-Real-IP on the gateway's own port escaped the limit: {statuses:?}");
        eprintln!("    the gateway believes X-Real-IP only from NGINX (spoofing it directly hits the limit): ok");
        Ok(())
    }

    /// Every service ran as its own Redis user without ever being refused, and the gateway
    /// decided every request in Redis (no local fallback).
    pub(super) async fn redis_users(&self) -> anyhow::Result<()> {
        for spec in SERVICES {
            let log = std::fs::read_to_string(self.fleet.log_path(spec.name)).unwrap_or_default();
            let refused = ["NOPERM", "no permissions", "throttle unavailable", "Redis unavailable"];
            ensure!(!refused.iter().any(|needle| log.contains(needle)), "{} was refused by Redis (ACL?)", spec.name);
        }
        let metrics = format!("{}/metrics", self.fleet.service_url("gateway"));
        let metrics = self.api.http().get(metrics).send().await?.text().await?;
        ensure!(
            metrics.lines().any(|l| l == "gateway_redis_fallback_total 0"),
            "the gateway fell back to its local limiter: Redis refused or failed it"
        );
        eprintln!("    each service ran as its own Redis ACL user, never refused: ok");
        Ok(())
    }
}

/// Runs a standard validator (openapi-spec-validator, from PyPI) on the document; a missing
/// validator fails unless `SHOPFLEET_ALLOW_SKIP` names `openapi-validator`.
fn validate_openapi(document: &Value, run_dir: &std::path::Path) -> anyhow::Result<()> {
    let path = run_dir.join("openapi.json");
    std::fs::write(&path, serde_json::to_vec_pretty(document)?)?;
    match std::process::Command::new("openapi-spec-validator").arg(&path).output() {
        Ok(output) => {
            let said = String::from_utf8_lossy(&output.stdout);
            ensure!(output.status.success(), "openapi-spec-validator refuses the document: {said}");
            Ok(())
        }
        Err(_) => {
            ensure!(
                skip_allowed("openapi-validator"),
                "openapi-spec-validator is missing (pip install openapi-spec-validator); \
                 set SHOPFLEET_ALLOW_SKIP=openapi-validator to skip"
            );
            eprintln!("    SKIPPED: validating the OpenAPI document (SHOPFLEET_ALLOW_SKIP=openapi-validator)");
            Ok(())
        }
    }
}

fn check_with_promtool(service: &str, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(text.as_bytes())?;
    let output = child.wait_with_output()?;
    // promtool exits 1 for lint warnings too; only real parse errors count here.
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(!stderr.contains("error while linting") && !stderr.contains("parse error"), "{service} /metrics: {stderr}");
    Ok(())
}
