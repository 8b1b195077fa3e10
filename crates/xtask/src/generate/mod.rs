//! The generated files: `docker-compose.yml` and its NGINX config (`deploy`), the Kubernetes
//! manifests (`k8s`), through one YAML writer (`yaml`), and the README's settings table
//! (`readme`).

pub(crate) mod deploy;
pub(crate) mod k8s;
pub(crate) mod readme;
pub(crate) mod yaml;
