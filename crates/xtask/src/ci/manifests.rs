//! `cargo xtask manifests` (and a step of `cargo xtask test`): both kustomize overlays of
//! `deploy/k8s` rendered with `kubectl kustomize`, validated against the Kubernetes schemas by
//! `kubernetes-validate --strict` (the Prometheus Operator's kinds, which it has no schema for,
//! are checked here instead), then checked against the code: every service has its Deployment,
//! Service, autoscaler, disruption budget and NetworkPolicy; its probes use the routes the
//! service kit serves on the port the fleet table gives it; it runs unprivileged; every key file
//! it is told about is mounted; every `$(NAME)` it refers to is in the site ConfigMap; and its
//! NetworkPolicy admits exactly the callers its guard admits and reaches exactly the services
//! that admit it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, ensure};
use serde_json::Value;
use service_kit::SERVICES;
use service_kit::fleet::{GATEWAY, callees, callers};
use service_kit::health::{HEALTH, READY};

/// The Kubernetes version the manifests are validated against.
const KUBERNETES: &str = "1.32.0";
const CRD_KINDS: &[&str] = &["ServiceMonitor", "PrometheusRule"];

/// `kubectl kustomize` of an overlay, as JSON documents.
fn render(root: &Path, overlay: &str) -> anyhow::Result<(String, Vec<Value>)> {
    let dir = root.join(crate::generate::k8s::ROOT).join("overlays").join(overlay);
    let output = Command::new("kubectl").arg("kustomize").arg(&dir).output().context("run kubectl kustomize")?;
    ensure!(output.status.success(), "kubectl kustomize {overlay}: {}", String::from_utf8_lossy(&output.stderr));
    let yaml = String::from_utf8(output.stdout)?;
    let mut convert = Command::new("python3")
        .args(["-c", "import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("python3 with PyYAML")?;
    std::io::Write::write_all(convert.stdin.as_mut().expect("stdin"), yaml.as_bytes())?;
    let output = convert.wait_with_output()?;
    ensure!(output.status.success(), "the rendered {overlay} overlay is not YAML");
    Ok((yaml, serde_json::from_slice(&output.stdout)?))
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> anyhow::Result<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .with_context(|| format!("no {kind} {name}"))
}

/// The app names a NetworkPolicy rule list selects by pod label.
fn selected(rules: &Value, side: &str) -> BTreeSet<String> {
    rules
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rule| rule[side].as_array().cloned().unwrap_or_default())
        .filter_map(|peer| peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().map(str::to_owned))
        .collect()
}

/// Checks one rendered overlay against the code; returns what it checked.
pub(crate) fn check_rendered(docs: &[Value]) -> anyhow::Result<usize> {
    let site = find(docs, "ConfigMap", "shopfleet-site")?;
    let mut checked = 0;
    for spec in SERVICES {
        let name = spec.name;
        for kind in ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"] {
            find(docs, kind, name)?;
        }
        let deployment = find(docs, "Deployment", name)?;
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        ensure!(container["ports"][0]["containerPort"] == spec.port, "{name}: its port is {}", spec.port);
        for (probe, path) in [("startupProbe", HEALTH), ("livenessProbe", HEALTH), ("readinessProbe", READY)] {
            ensure!(container[probe]["httpGet"]["path"] == path, "{name}: {probe} must ask {path}");
            ensure!(container[probe]["httpGet"]["port"] == "http", "{name}: {probe} on the http port");
        }
        ensure!(pod["securityContext"]["runAsNonRoot"] == true, "{name}: runAsNonRoot");
        ensure!(pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", "{name}: seccomp");
        ensure!(container["securityContext"]["readOnlyRootFilesystem"] == true, "{name}: read-only root");
        ensure!(container["securityContext"]["capabilities"]["drop"][0] == "ALL", "{name}: capabilities dropped");
        ensure!(container["securityContext"]["allowPrivilegeEscalation"] == false, "{name}: no privilege escalation");
        // Every file it is told about is mounted; every $(NAME) it uses is defined.
        let mount = container["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == "keys")
            .and_then(|m| m["mountPath"].as_str())
            .with_context(|| format!("{name}: no keys mount"))?
            .to_owned();
        let keys_volume =
            pod["volumes"].as_array().into_iter().flatten().find(|v| v["name"] == "keys").context("keys volume")?;
        let mounted: BTreeSet<String> = keys_volume["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["secret"]["items"].as_array().cloned().unwrap_or_default())
            .filter_map(|item| item["path"].as_str().map(|p| format!("{mount}/{p}")))
            .collect();
        for variable in container["env"].as_array().into_iter().flatten() {
            let key = variable["name"].as_str().unwrap_or_default();
            let value = variable["value"].as_str().unwrap_or_default();
            if key.ends_with("_FILE") {
                ensure!(mounted.contains(value), "{name}: {key}={value} is not mounted");
            }
            for reference in value.split("$(").skip(1) {
                let var = reference.split(')').next().unwrap_or_default();
                ensure!(site["data"].get(var).is_some(), "{name}: {key} refers to $({var}), not in shopfleet-site");
            }
            ensure!(
                !value.contains("postgres:5432") && !value.contains("redis:6379"),
                "{name}: {key} names a compose host"
            );
        }
        // The network admits exactly the guard's callers and reaches exactly its callees.
        let policy = find(docs, "NetworkPolicy", name)?;
        let mut expected_in: BTreeSet<String> = callers(name).iter().map(|c| (*c).to_owned()).collect();
        if name == GATEWAY {
            expected_in.insert("nginx".to_owned());
        }
        let got_in = selected(&policy["spec"]["ingress"], "from");
        ensure!(got_in == expected_in, "{name}: ingress from {got_in:?}, the guard admits {expected_in:?}");
        let expected_out: BTreeSet<String> = callees(name).iter().map(|c| (*c).to_owned()).collect();
        let got_out = selected(&policy["spec"]["egress"], "to");
        ensure!(got_out == expected_out, "{name}: egress to {got_out:?}, it calls {expected_out:?}");
        checked += 1;
    }
    for (kind, name) in
        [("NetworkPolicy", "default-deny"), ("NetworkPolicy", "allow-dns"), ("Job", "shopfleet-bootstrap")]
    {
        find(docs, kind, name)?;
    }
    for kind in CRD_KINDS {
        let doc = docs.iter().find(|d| d["kind"] == *kind).with_context(|| format!("no {kind}"))?;
        ensure!(doc["apiVersion"] == "monitoring.coreos.com/v1", "{kind}: apiVersion");
    }
    Ok(checked)
}

/// Checks that a rendered production overlay can only take real money: Stripe chosen, the
/// environment production, Stripe's key mounted, and the sandbox nowhere (no provider, URL,
/// secret file or mount that names it).
pub(crate) fn check_production(yaml: &str, docs: &[Value]) -> anyhow::Result<()> {
    let site = &find(docs, "ConfigMap", "shopfleet-site")?["data"];
    ensure!(
        site[settings::service::payment::PAYMENT_PROVIDER.name] == "stripe",
        "prod: PAYMENT_PROVIDER is {}, not stripe",
        site[settings::service::payment::PAYMENT_PROVIDER.name]
    );
    ensure!(
        site.get(settings::shared::SHOP_ENV.name).is_none_or(|env| env == "production"),
        "prod: SHOP_ENV is {}, not production",
        site[settings::shared::SHOP_ENV.name]
    );
    let payment = find(docs, "Deployment", service_kit::fleet::PAYMENT)?;
    let env = payment["spec"]["template"]["spec"]["containers"][0]["env"].as_array().cloned().unwrap_or_default();
    for variable in &env {
        ensure!(
            variable["name"] != settings::shared::SHOP_ENV.name
                && variable["name"] != settings::service::payment::PAYMENT_PROVIDER.name,
            "prod: payment sets {} itself",
            variable["name"]
        );
    }
    ensure!(
        env.iter().any(|v| v["name"] == settings::service::payment::STRIPE_SECRET_KEY_FILE.name),
        "prod: payment has no STRIPE_SECRET_KEY_FILE"
    );
    if let Some(line) = yaml.lines().find(|line| line.to_ascii_lowercase().contains("sandbox")) {
        anyhow::bail!("prod: the overlay renders the sandbox: {}", line.trim());
    }
    Ok(())
}

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    crate::dev::install::ensure_kubernetes_validate()?;
    for overlay in ["dev", "prod"] {
        let (yaml, docs) = render(root, overlay)?;
        let checked = check_rendered(&docs)?;
        if overlay == "prod" {
            check_production(&yaml, &docs)?;
        }
        // The schemas know the built-in kinds; the operator's kinds were checked above.
        let dir = std::env::temp_dir().join(format!("shopfleet-manifests-{}-{overlay}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut files = Vec::new();
        for (index, doc) in yaml.split("\n---\n").enumerate() {
            if CRD_KINDS.iter().any(|kind| doc.contains(&format!("\nkind: {kind}\n"))) {
                continue;
            }
            let path = dir.join(format!("{index:03}.yaml"));
            std::fs::write(&path, doc)?;
            files.push(path);
        }
        let outcome = crate::run_step(
            &format!("kubernetes-validate {overlay} ({} documents, Kubernetes {KUBERNETES})", files.len()),
            Command::new(crate::dev::install::kubernetes_validate())
                .args(["--strict", "--quiet", "-k", KUBERNETES])
                .args(&files),
        );
        let _ = std::fs::remove_dir_all(&dir);
        outcome?;
        eprintln!(
            "    {overlay}: {} documents, {checked} services checked against the fleet and callers tables",
            docs.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn overlay(provider: &str, environment: &str, webhook: &str) -> (String, Vec<Value>) {
        let docs = vec![
            json!({"kind": "ConfigMap", "metadata": {"name": "shopfleet-site"},
                   "data": {(settings::service::payment::PAYMENT_PROVIDER.name): provider, (settings::shared::SHOP_ENV.name): environment, (settings::service::payment::PAYMENT_WEBHOOK_URL.name): webhook}}),
            json!({"kind": "Deployment", "metadata": {"name": "payment"}, "spec": {"template": {"spec": {"containers": [
                {"env": [{"name": settings::service::payment::STRIPE_SECRET_KEY_FILE.name, "value": "/keys/secrets/stripe-secret-key"}]}]}}}}),
        ];
        let yaml = format!("PAYMENT_PROVIDER: {provider}\nSHOP_ENV: {environment}\nPAYMENT_WEBHOOK_URL: {webhook}\n");
        (yaml, docs)
    }

    #[test]
    fn a_production_overlay_with_stripe_passes() {
        let (yaml, docs) = overlay("stripe", "production", "https://shop.example.com/api/v1/payments/webhooks/stripe");
        check_production(&yaml, &docs).unwrap();
    }

    #[test]
    fn a_production_overlay_that_renders_the_sandbox_anywhere_fails() {
        for (provider, environment, webhook) in [
            ("sandbox", "production", "https://x/webhooks/stripe"),
            ("stripe", "development", "https://x/webhooks/stripe"),
            ("stripe", "production", "http://nginx/api/v1/payments/webhooks/sandbox"),
        ] {
            let (yaml, docs) = overlay(provider, environment, webhook);
            assert!(check_production(&yaml, &docs).is_err(), "{provider} {environment} {webhook}");
        }
    }

    #[test]
    fn the_generated_production_overlay_names_no_sandbox() {
        // What kubectl renders for prod is the base and the prod overlay's files.
        for (path, text) in crate::generate::k8s::files().unwrap() {
            let path = path.display().to_string();
            if path.contains("overlays/dev") {
                continue;
            }
            assert!(!text.to_ascii_lowercase().contains("sandbox"), "{path} names the sandbox");
        }
    }
}
