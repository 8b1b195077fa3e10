//! `cargo xtask build-graph` (and a step of `cargo xtask ops`): the builds of a test run share
//! their compiled units. `cargo xtask test` first builds xtask itself, then the workspace's
//! tests, then the service binaries for the fleet test (and the compose test the same binaries
//! and the bootstrap); cargo resolves features per invocation, so a crate whose features differ
//! between them, and every crate above it, compiles twice. The `workspace-hack` crate (xtask's
//! dependency) therefore names a few crates with the test build's features, and the failpoints
//! are no cargo feature. This check asks cargo for each build's unit graph (`--unit-graph`,
//! unstable, so with `RUSTC_BOOTSTRAP=1`; nothing is built) and fails, naming the crates, when a
//! unit of xtask's or the binaries' build is not also a unit of the test build.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;

use serde_json::Value;

/// One unit's identity as cargo hashes it: package, target, mode, features, profile (its name
/// aside: `test` and `dev` share artifacts) and, recursively, its dependencies.
fn unit_keys(graph: &Value) -> anyhow::Result<Vec<(u64, String)>> {
    let units = graph["units"].as_array().ok_or_else(|| anyhow::anyhow!("no units in cargo's unit graph"))?;
    let mut keys: Vec<Option<u64>> = vec![None; units.len()];
    fn key(units: &[Value], keys: &mut Vec<Option<u64>>, index: usize) -> u64 {
        if let Some(known) = keys[index] {
            return known;
        }
        let unit = &units[index];
        let mut profile = unit["profile"].clone();
        if let Some(fields) = profile.as_object_mut() {
            fields.remove("name");
        }
        let mut dependencies: Vec<u64> = unit["dependencies"]
            .as_array()
            .map(|deps| deps.iter().filter_map(|d| d["index"].as_u64()).map(|i| key(units, keys, i as usize)).collect())
            .unwrap_or_default();
        dependencies.sort_unstable();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (
            unit["pkg_id"].to_string(),
            unit["target"]["name"].to_string(),
            unit["target"]["kind"].to_string(),
            unit["mode"].to_string(),
            unit["features"].to_string(),
            profile.to_string(),
            dependencies,
        )
            .hash(&mut hasher);
        let hashed = hasher.finish();
        keys[index] = Some(hashed);
        hashed
    }
    Ok((0..units.len())
        .map(|index| {
            let unit = &units[index];
            let name = format!(
                "{} ({} {})",
                package_name(unit["pkg_id"].as_str().unwrap_or("?")),
                unit["target"]["name"].as_str().unwrap_or("?"),
                unit["mode"].as_str().unwrap_or("?"),
            );
            (key(units, &mut keys, index), name)
        })
        .collect())
}

/// `name@version` from a package id: `registry+…#name@1.0` or `path+file:///…/name#0.1.0`.
fn package_name(pkg_id: &str) -> String {
    match pkg_id.rsplit_once('#') {
        Some((_, tail)) if tail.contains('@') => tail.to_owned(),
        Some((source, version)) => format!("{}@{version}", source.rsplit('/').next().unwrap_or(source)),
        None => pkg_id.to_owned(),
    }
}

fn unit_graph(root: &Path, args: &[String]) -> anyhow::Result<Vec<(u64, String)>> {
    let description = format!("cargo {} --unit-graph", args.join(" "));
    let text = crate::output(
        &description,
        crate::linted_cargo()?
            .current_dir(root)
            .args(args)
            .args(["-Z", "unstable-options", "--unit-graph"])
            .env("RUSTC_BOOTSTRAP", "1"),
    )?;
    unit_keys(&serde_json::from_str(&text)?)
}

/// The units of `build` missing from `test`, by name, except `allowed` packages' own targets.
fn missing(build: &[(u64, String)], test: &[(u64, String)], allowed: &[&str]) -> Vec<String> {
    let in_test: HashSet<u64> = test.iter().map(|(key, _)| *key).collect();
    let mut names: Vec<String> = build
        .iter()
        .filter(|(key, name)| {
            !in_test.contains(key) && !allowed.iter().any(|a| name.ends_with(&format!("({a} build)")))
        })
        .map(|(_, name)| name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    eprintln!("==> build graph: xtask's and the binaries' builds are parts of the test build");
    let test = unit_graph(root, &["test".into(), "--workspace".into(), "--no-run".into()])?;
    let xtask = unit_graph(root, &["build".into(), "-p".into(), "xtask".into()])?;
    let mut binaries = crate::dev::fleet::build_args();
    binaries.extend(["-p".into(), "bootstrap".into()]);
    let binaries = unit_graph(root, &binaries)?;
    let mut problems = HashMap::new();
    // xtask's own binary is the one unit the test build has no need of.
    for (build, units) in [("cargo xtask", &xtask), ("the service binaries and the bootstrap", &binaries)] {
        let extra = missing(units, &test, &["xtask"]);
        if !extra.is_empty() {
            problems.insert(build, extra);
        }
    }
    if problems.is_empty() {
        eprintln!(
            "    {} units in the test build; xtask's {} and the binaries' {} all among them",
            test.len(),
            xtask.len(),
            binaries.len()
        );
        return Ok(());
    }
    let report: Vec<String> = problems
        .iter()
        .map(|(build, units)| {
            format!("{build} compiles {} units the test build does not: {}", units.len(), units.join(", "))
        })
        .collect();
    anyhow::bail!(
        "{}\n(a dependency's features differ between the builds: give it the test build's features in crates/workspace-hack/Cargo.toml; `cargo tree -e features -i <crate>` shows who enables what)",
        report.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(pkg: &str, features: &[&str], deps: &[usize]) -> Value {
        serde_json::json!({
            "pkg_id": pkg, "target": {"name": pkg, "kind": ["lib"]}, "mode": "build",
            "features": features, "profile": {"name": "dev", "opt_level": "0"},
            "dependencies": deps.iter().map(|i| serde_json::json!({"index": i})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn a_feature_difference_shows_in_the_unit_and_every_unit_above_it() {
        let test = serde_json::json!({"units": [unit("low", &["std"], &[]), unit("high", &[], &[0])]});
        let same = serde_json::json!({"units": [unit("low", &["std"], &[]), unit("high", &[], &[0])]});
        let fewer = serde_json::json!({"units": [unit("low", &[], &[]), unit("high", &[], &[0])]});
        let test = unit_keys(&test).unwrap();
        assert!(missing(&unit_keys(&same).unwrap(), &test, &[]).is_empty());
        assert_eq!(missing(&unit_keys(&fewer).unwrap(), &test, &[]), ["high (high build)", "low (low build)"]);
    }

    #[test]
    fn package_names_come_from_registry_and_path_ids() {
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#either@1.19.0"),
            "either@1.19.0"
        );
        assert_eq!(package_name("path+file:///work/main/crates/events#0.1.0"), "events@0.1.0");
    }

    #[test]
    fn the_profiles_name_is_not_part_of_a_unit() {
        let mut renamed = unit("low", &[], &[]);
        renamed["profile"]["name"] = "test".into();
        let a = unit_keys(&serde_json::json!({"units": [unit("low", &[], &[])]})).unwrap();
        let b = unit_keys(&serde_json::json!({"units": [renamed]})).unwrap();
        assert_eq!(a[0].0, b[0].0);
    }
}
