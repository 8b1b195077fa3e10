//! The generated deployment files: `docker-compose.yml` and its NGINX config (`deploy`), the Kubernetes manifests (`k8s`), through one YAML writer (`yaml`).

pub(crate) mod deploy;
pub(crate) mod k8s;
pub(crate) mod yaml;
