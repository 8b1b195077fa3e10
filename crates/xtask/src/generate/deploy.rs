//! `cargo xtask deploy`: writes the deployment files that follow from the fleet table and the
//! environment every placement shares (`fleet::env_for`), so they cannot drift from the code:
//! `docker-compose.yml` and the NGINX config it mounts (`deploy/compose/nginx.conf`), the
//! Kubernetes manifests and the README's settings table (from `crates/settings`). A test
//! (`committed_files_are_up_to_date`) fails when a committed file differs from what this
//! writes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use service_kit::SERVICES;

use super::image;
use crate::dev::fleet::{Placement, compose, env_for};

/// The upstream images of the users' compose file (the compose test builds stand-ins).
pub(crate) const POSTGRES_IMAGE: &str = "postgres:15-bookworm";
pub(crate) const REDIS_IMAGE: &str = "redis:7-bookworm";
pub(crate) const NGINX_IMAGE: &str = "nginx:1.27-bookworm";
pub(crate) const MAIL_IMAGE: &str = "axllent/mailpit:v1.21";
/// Where the binary sits in every image of ours (Dockerfile).
pub(crate) const BINARY: &str = "/usr/local/bin/shopfleet";

/// Every generated file: (path under the workspace, contents).
pub(crate) fn files() -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = vec![
        (PathBuf::from("docker-compose.yml"), compose_file()),
        (PathBuf::from("deploy/compose/nginx.conf"), compose_nginx()?),
        (PathBuf::from(".github/workflows/images.yml"), images_workflow()),
    ];
    files.extend(crate::generate::k8s::files()?);
    files.push((PathBuf::from("README.md"), crate::generate::readme::with_table(&crate::workspace_root()?)?));
    Ok(files)
}

/// `cargo xtask deploy`: (re)writes the generated files.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    for (path, text) in files()? {
        let target = root.join(&path);
        std::fs::create_dir_all(target.parent().expect("a folder"))?;
        std::fs::write(&target, text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A YAML scalar (JSON's string syntax is YAML's double-quoted one).
fn q(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

fn list(items: &[&str]) -> String {
    format!("[{}]", items.iter().map(|i| q(i)).collect::<Vec<_>>().join(", "))
}

/// `depends_on` entries: (service, condition).
fn depends(out: &mut String, on: &[(&str, &str)]) {
    if on.is_empty() {
        return;
    }
    out.push_str("    depends_on:\n");
    for (service, condition) in on {
        let _ = writeln!(out, "      {service}:\n        condition: {condition}");
    }
}

fn environment(out: &mut String, env: &[(String, String)]) {
    out.push_str("    environment:\n");
    for (key, value) in env {
        let _ = writeln!(out, "      {key}: {}", q(value));
    }
}

/// What every container of ours gets: no privileges to gain or keep, a read-only root.
const HARDENED: &str = "    read_only: true\n    tmpfs: [\"/tmp\"]\n    cap_drop: [\"ALL\"]\n    security_opt: [\"no-new-privileges:true\"]\n";

fn build(out: &mut String, binary: &str) {
    let _ = writeln!(out, "    image: {}", image(binary));
    let _ = writeln!(out, "    build:\n      context: .\n      args:\n        SERVICE: {binary}");
}

fn healthcheck(out: &mut String, test: &[&str]) {
    let _ = writeln!(
        out,
        "    healthcheck:\n      test: {}\n      interval: 3s\n      timeout: 3s\n      retries: 40\n      start_period: 5s",
        list(test)
    );
}

/// The users' compose file.
/// A store's password or other secret, in the `keys` volume.
fn secret(name: &str) -> String {
    format!("{}/secrets/{name}", compose::KEYS)
}

/// The one-shots and the stores: keys and secrets first, then PostgreSQL, Redis, the S3 server
/// and the mail catcher, then the bootstrap of roles, schemas and ACL users.
fn compose_stores(out: &mut String) {
    out.push_str("  keys:\n");
    build(out, "bootstrap");
    let _ = writeln!(out, "    command: {}", list(&["keys"]));
    environment(out, &[(settings::bootstrap::KEYS_DIR.name.into(), compose::KEYS.into())]);
    let _ = writeln!(out, "    volumes: [\"keys:{}\"]", compose::KEYS);
    out.push_str(HARDENED);
    out.push_str("    healthcheck:\n      disable: true\n");

    out.push_str("  postgres:\n");
    let _ = writeln!(out, "    image: {POSTGRES_IMAGE}");
    out.push_str("    restart: unless-stopped\n");
    environment(out, &[("POSTGRES_PASSWORD_FILE".into(), secret("postgres-password"))]);
    let _ = writeln!(out, "    volumes: [\"keys:{}:ro\", \"postgres:/var/lib/postgresql/data\"]", compose::KEYS);
    depends(out, &[("keys", "service_completed_successfully")]);
    healthcheck(out, &["CMD", "pg_isready", "-U", "postgres", "-h", "127.0.0.1"]);

    out.push_str("  redis:\n");
    let _ = writeln!(out, "    image: {REDIS_IMAGE}");
    out.push_str("    restart: unless-stopped\n");
    let _ = writeln!(out, "    command: {}", list(&["redis-server", &secret("redis.conf")]));
    let _ = writeln!(out, "    volumes: [\"keys:{}:ro\", \"redis:/data\"]", compose::KEYS);
    depends(out, &[("keys", "service_completed_successfully")]);
    let ping = format!("REDISCLI_AUTH=\"$$(cat {})\" redis-cli ping | grep -q PONG", secret("redis-password"));
    healthcheck(out, &["CMD-SHELL", &ping]);

    out.push_str("  s3:\n");
    let _ = writeln!(out, "    image: {}", image("s3"));
    out.push_str("    build:\n      context: .\n      dockerfile: deploy/compose/s3.Dockerfile\n");
    out.push_str("    restart: unless-stopped\n");
    environment(
        out,
        &[
            (settings::service::media::S3_BUCKET.name.into(), crate::dev::fleet::BUCKET.into()),
            ("S3_ACCESS_KEY_ID_FILE".into(), secret("s3-access-key-id")),
            ("S3_SECRET_ACCESS_KEY_FILE".into(), secret("s3-secret-access-key")),
        ],
    );
    let _ = writeln!(out, "    volumes: [\"keys:{}:ro\", \"s3:/var/lib/shopfleet/s3\"]", compose::KEYS);
    out.push_str(HARDENED);
    depends(out, &[("keys", "service_completed_successfully")]);
    healthcheck(out, &["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000"]);

    out.push_str("  mailcatcher:\n");
    let _ = writeln!(out, "    image: {MAIL_IMAGE}");
    out.push_str("    restart: unless-stopped\n    ports: [\"127.0.0.1:8025:8025\"]\n");

    out.push_str("  bootstrap:\n");
    build(out, "bootstrap");
    let _ = writeln!(out, "    command: {}", list(&["stores"]));
    environment(
        out,
        &[
            (settings::bootstrap::KEYS_DIR.name.into(), compose::KEYS.into()),
            (
                settings::bootstrap::POSTGRES_ADMIN_URL.name.into(),
                format!("postgres://postgres@{}/postgres", compose::POSTGRES),
            ),
            ("POSTGRES_PASSWORD_FILE".into(), secret("postgres-password")),
            (settings::bootstrap::DATABASE_NAME.name.into(), crate::dev::fleet::DATABASE.into()),
            (settings::bootstrap::REDIS_ADMIN_URL.name.into(), format!("redis://default@{}", compose::REDIS)),
            ("REDIS_PASSWORD_FILE".into(), secret("redis-password")),
        ],
    );
    let _ = writeln!(out, "    volumes: [\"keys:{}:ro\"]", compose::KEYS);
    out.push_str(HARDENED);
    out.push_str("    healthcheck:\n      disable: true\n");
    depends(out, &[("postgres", "service_healthy"), ("redis", "service_healthy")]);
}

/// The fleet's services, and the demo catalog and its stock through each owner's own command
/// (as `cargo xtask up`).
fn compose_services(out: &mut String) {
    for spec in SERVICES {
        let _ = writeln!(out, "  {}:", spec.name);
        build(out, spec.name);
        out.push_str("    restart: unless-stopped\n");
        environment(out, &env_for(&Placement::Compose, spec.name));
        let mut volumes = vec![format!("keys:{}:ro", compose::KEYS)];
        if spec.name == service_kit::fleet::SEARCH {
            volumes.push(format!("search-index:{}", compose::SEARCH_INDEX));
        }
        let _ = writeln!(out, "    volumes: {}", list(&volumes.iter().map(String::as_str).collect::<Vec<_>>()));
        out.push_str(HARDENED);
        let mut on = vec![("bootstrap", "service_completed_successfully")];
        match spec.name {
            "gateway" => {
                on.extend(SERVICES.iter().filter(|s| s.name != "gateway").map(|s| (s.name, "service_healthy")))
            }
            "media" => on.push(("s3", "service_healthy")),
            "notification" => on.push(("mailcatcher", "service_started")),
            _ => {}
        }
        depends(out, &on);
        healthcheck(out, &["CMD", BINARY, "healthcheck", "--ready"]);
    }

    // The demo catalog and its stock, through each owner's own command (as `cargo xtask up`).
    for (name, owner, after) in [("seed-catalog", "product", None), ("seed-stock", "inventory", Some("seed-catalog"))] {
        let _ = writeln!(out, "  {name}:");
        build(out, owner);
        let _ = writeln!(out, "    command: {}", list(&["seed-demo"]));
        environment(out, &env_for(&Placement::Compose, owner));
        let _ = writeln!(out, "    volumes: [\"keys:{}:ro\"]", compose::KEYS);
        out.push_str(HARDENED);
        out.push_str("    healthcheck:\n      disable: true\n");
        let mut on = vec![(owner, "service_healthy")];
        if let Some(after) = after {
            on.push((after, "service_completed_successfully"));
        }
        depends(out, &on);
    }
}

/// NGINX (loopback only), the volumes and the network.
fn compose_edge(out: &mut String) {
    out.push_str("  nginx:\n");
    let _ = writeln!(out, "    image: {NGINX_IMAGE}");
    out.push_str("    restart: unless-stopped\n");
    // Loopback only (review f5592e3 L10): the stack runs dev keys and the demo admin, so it is
    // reachable from this machine alone, like the mail catcher.
    let _ = writeln!(out, "    ports: [\"127.0.0.1:{0}:{0}\"]", compose::NGINX_PORT);
    out.push_str(
        "    volumes: [\"./deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro\", \"./nginx:/etc/shopfleet/nginx:ro\", \"s3:/var/lib/shopfleet/s3:ro\"]\n",
    );
    depends(out, &[("gateway", "service_healthy")]);
    let probe = format!("exec 3<>/dev/tcp/127.0.0.1/{}", compose::NGINX_PORT);
    healthcheck(out, &["CMD", "bash", "-c", &probe]);

    out.push_str("\nvolumes:\n");
    for volume in ["keys", "postgres", "redis", "s3", "search-index"] {
        let _ = writeln!(out, "  {volume}:");
    }
    let _ = write!(
        out,
        "\n# Only the shop's own containers are on this network, and only NGINX forwards outside callers:\n\
         # the gateway believes X-Real-IP from its addresses (TRUSTED_PROXIES).\n\
         networks:\n  default:\n    ipam:\n      config:\n        - subnet: {}\n",
        compose::SUBNET
    );
}

pub(crate) fn compose_file() -> String {
    let mut out = String::from(
        "# Generated by `cargo xtask deploy` from the fleet table (crates/service-kit/src/fleet.rs) and the\n\
         # environment every way of running the shop shares (crates/xtask/src/dev/fleet.rs, env_for). Edit those\n\
         # and run it again: a test fails while this file differs from what it writes.\n\
         #\n\
         # `docker compose up --build` runs the whole shop on http://localhost:8080, as `cargo xtask up`\n\
         # does, with the mail catcher's inbox on http://localhost:8025. On the first start the `keys`\n\
         # one-shot makes DEV-ONLY keys and passwords in the `keys` volume; `docker compose down -v`\n\
         # forgets them with the data. Production runs on Kubernetes with real secrets (deploy/README.md).\n\
         \n\
         services:\n",
    );

    compose_stores(&mut out);
    compose_services(&mut out);
    compose_edge(&mut out);
    out
}

/// The images workflow: one image per binary with the Dockerfile (BuildKit's cache in GitHub's
/// cache), pushed to GitHub's registry from main and tags; and the manifests' validation.
pub(crate) fn images_workflow() -> String {
    let binaries: Vec<&str> = SERVICES.iter().map(|s| s.name).chain(["bootstrap"]).collect();
    format!(
        r#"# Generated by `cargo xtask deploy` (crates/xtask/src/generate/deploy.rs); do not edit.
name: Images

on:
  push:
    branches: [main]
    tags: ["v*"]
  pull_request:

# Least privilege (review f5592e3 L10): only the job that pushes images may write packages.
permissions:
  contents: read

jobs:
  image:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: read
      packages: write
    strategy:
      fail-fast: false
      matrix:
        include:
{matrix}          - {{binary: s3, dockerfile: deploy/compose/s3.Dockerfile}}
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        if: github.event_name != 'pull_request'
        with:
          registry: ghcr.io
          username: ${{{{ github.actor }}}}
          password: ${{{{ secrets.GITHUB_TOKEN }}}}
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/${{{{ github.repository_owner }}}}/shopfleet-${{{{ matrix.binary }}}}
          tags: |
            type=sha,format=long
            type=ref,event=branch
            type=ref,event=tag
      - uses: docker/build-push-action@v6
        with:
          context: .
          file: ${{{{ matrix.dockerfile }}}}
          build-args: SERVICE=${{{{ matrix.binary }}}}
          tags: ${{{{ steps.meta.outputs.tags }}}}
          labels: ${{{{ steps.meta.outputs.labels }}}}
          push: ${{{{ github.event_name != 'pull_request' }}}}
          cache-from: type=gha,scope=${{{{ matrix.binary }}}}
          cache-to: type=gha,mode=max,scope=${{{{ matrix.binary }}}}

  manifests:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - uses: azure/setup-kubectl@v4
        with:
          version: v1.32.4
      - run: python3 -m pip install kubernetes-validate==1.37.*
      - run: cargo xtask manifests
"#,
        matrix = binaries
            .iter()
            .map(|b| format!("          - {{binary: {b}, dockerfile: Dockerfile}}\n"))
            .collect::<String>()
    )
}

/// The NGINX config of the compose stack: the repo's template, with the official image's paths,
/// its logs to the container's output, the gateway by service name.
pub(crate) fn compose_nginx() -> anyhow::Result<String> {
    let conf_dir = "/etc/shopfleet/nginx";
    let media = format!("/var/lib/shopfleet/s3/{}/media", crate::dev::fleet::BUCKET);
    let rendered = crate::dev::nginx::render_text(&crate::dev::nginx::Values {
        run_dir: "/var/cache/nginx".into(),
        conf_dir: conf_dir.into(),
        access_log: "/dev/stdout".into(),
        error_log: "/dev/stderr".into(),
        listen: compose::NGINX_PORT.to_string(),
        gateway_servers: format!(
            "        server gateway:{};",
            service_kit::fleet::spec("gateway").expect("gateway").port
        ),
        proxy_bind: "off".into(),
        master_process: "on",
        bench_static: String::new(),
        media_files: crate::dev::nginx::media_location(&media, conf_dir),
    })?;
    Ok(format!(
        "# Generated by `cargo xtask deploy` from nginx/nginx.conf.template for docker-compose.yml; do not edit.\n{rendered}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_files_are_up_to_date() {
        let root = crate::workspace_root().unwrap();
        for (path, text) in files().unwrap() {
            let committed = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            assert!(committed == text, "{} is out of date: run `cargo xtask deploy`", path.display());
        }
    }

    #[test]
    fn every_variable_a_container_gets_is_a_setting_its_service_reads() {
        for spec in SERVICES {
            for (variable, _) in env_for(&Placement::Compose, spec.name) {
                assert!(settings::reads(spec.name, &variable), "{} gets {variable}, which it does not read", spec.name);
            }
        }
    }

    #[test]
    fn every_service_has_its_image_health_check_and_stores() {
        let file = compose_file();
        for spec in SERVICES {
            let header = format!("  {}:", spec.name);
            let block: String = file
                .lines()
                .skip_while(|line| *line != header)
                .skip(1)
                .take_while(|line| line.starts_with("    "))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(block.contains(&image(spec.name)), "{}: {block}", spec.name);
            assert!(block.contains("healthcheck\", \"--ready\""), "{}", spec.name);
            assert!(block.contains("read_only: true"), "{}", spec.name);
            assert_eq!(block.contains("DATABASE_PASSWORD_FILE"), spec.db_role().is_some(), "{}", spec.name);
            assert!(block.contains("REDIS_PASSWORD_FILE"), "{}", spec.name);
        }
    }
}
