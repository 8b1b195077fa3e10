//! The generated files: `docker-compose.yml` and its NGINX config (`deploy`), the Kubernetes
//! manifests (`k8s`), through one YAML writer (`yaml`), and the README's settings table
//! (`readme`).

/// The Prometheus alert rules (hand-written; the Kubernetes ConfigMap carries them, CI checks
/// them with promtool).
pub(crate) const ALERTS: &str = "deploy/prometheus/alerts.yml";

/// The image of a workspace binary, as the compose file, the Kubernetes manifests and the
/// compose test tag it.
pub(crate) fn image(binary: &str) -> String {
    format!("shopfleet/{binary}:dev")
}

pub(crate) mod deploy;
pub(crate) mod k8s;
pub(crate) mod readme;
pub(crate) mod yaml;
