//! The monitoring files under `deploy/`, checked by `cargo xtask test`: the alert rules against
//! their unit tests (`promtool test rules`), and every Grafana panel's query parsed by promtool
//! (as a recording rule of a throwaway rules file). The unit tests below check that they name
//! only metrics the code registers, and that every alert has its tests and its runbook entry.

use std::path::Path;
use std::process::Command;

pub(crate) const ALERT_TESTS: &str = "deploy/prometheus/alerts.test.yml";
pub(crate) const DASHBOARD: &str = "deploy/grafana/shopfleet.json";
#[cfg(test)]
pub(crate) const RUNBOOK: &str = "docs/runbook.md";

/// Every query of the dashboard's panels.
fn dashboard_queries(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join(DASHBOARD))?)?;
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("?").to_owned();
            queries.push((title, target["expr"].as_str().unwrap_or_default().to_owned()));
        }
    }
    Ok(queries)
}

pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    crate::run_step(
        "promtool test rules (alerts)",
        Command::new("promtool").args(["test", "rules"]).arg(root.join(ALERT_TESTS)),
    )?;
    let queries = dashboard_queries(root)?;
    anyhow::ensure!(!queries.is_empty(), "{DASHBOARD} has no queries");
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (index, (_, expr)) in queries.iter().enumerate() {
        rules.push_str(&format!(
            "      - record: dashboard:panel_{index}\n        expr: {}\n",
            serde_json::to_string(expr)?
        ));
    }
    let path = std::env::temp_dir().join(format!("shopfleet-dashboard-{}.rules.yml", std::process::id()));
    std::fs::write(&path, rules)?;
    let outcome = crate::run_step(
        "promtool check rules (the dashboard's queries)",
        Command::new("promtool").args(["check", "rules"]).arg(&path),
    );
    let _ = std::fs::remove_file(&path);
    outcome
}

#[cfg(test)]
/// The metric names a PromQL text uses: words with an underscore directly followed by `{`,
/// `[` or `)`, histogram suffixes taken off.
fn metric_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut start = None;
    for (index, c) in chars.iter().enumerate() {
        if c.is_ascii_lowercase() || *c == '_' || (c.is_ascii_digit() && start.is_some()) {
            start.get_or_insert(index);
            continue;
        }
        if let Some(from) = start.take() {
            let word: String = chars[from..index].iter().collect();
            if word.contains('_') && matches!(c, '{' | '[' | ')') && !word.starts_with('_') {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .fold(word.clone(), |w, s| w.strip_suffix(s).map(str::to_owned).unwrap_or(w));
                names.push(base);
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::ALERTS;

    fn sources(root: &Path) -> String {
        let mut text = String::new();
        let mut stack = vec![root.join("crates"), root.join("services")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() && !path.ends_with("target") && !path.ends_with("tests") {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("monitoring.rs") {
                    text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        text
    }

    #[test]
    fn alerts_and_dashboard_name_only_metrics_the_code_registers() {
        let root = crate::workspace_root().unwrap();
        let code = sources(&root);
        let mut text = std::fs::read_to_string(root.join(ALERTS)).unwrap();
        for (_, expr) in dashboard_queries(&root).unwrap() {
            text.push_str(&expr);
            text.push('\n');
        }
        let names = metric_names(&text);
        assert!(names.len() >= 10, "{names:?}");
        let missing: Vec<&String> = names.iter().filter(|name| !code.contains(&format!("\"{name}\""))).collect();
        assert!(missing.is_empty(), "metrics no code registers: {missing:?}");
    }

    #[test]
    fn every_alert_is_tested_firing_and_has_a_runbook_entry() {
        let root = crate::workspace_root().unwrap();
        let alerts = std::fs::read_to_string(root.join(ALERTS)).unwrap();
        let tests = std::fs::read_to_string(root.join(ALERT_TESTS)).unwrap();
        let runbook = std::fs::read_to_string(root.join(RUNBOOK)).unwrap();
        let names: Vec<&str> = alerts.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
        assert!(names.len() >= 14, "{names:?}");
        for name in names {
            // A firing expectation: the alert's test case lists at least one alert.
            let firing = tests.split("alertname: ").skip(1).any(|case| {
                case.starts_with(&format!("{name}\n"))
                    && case.contains("exp_labels")
                    && !case.lines().nth(1).is_some_and(|l| l.contains("exp_alerts: []"))
            });
            assert!(firing, "{name} has no test in which it fires");
            assert!(runbook.contains(&format!("\n## {name}\n")), "{name} has no entry in {RUNBOOK}");
            assert!(
                alerts.contains(&format!("runbook: docs/runbook.md#{}", name.to_lowercase())),
                "{name}'s runbook link"
            );
        }
    }

    #[test]
    fn metric_names_are_found_in_promql() {
        let names = metric_names(
            r#"sum by (service) (rate(http_requests_total{status=~"5.."}[5m])) / x_y[5m] histogram_quantile(0.99, rate(a_b_bucket[1m]))"#,
        );
        assert_eq!(names, vec!["a_b", "http_requests_total", "x_y"]);
    }
}
