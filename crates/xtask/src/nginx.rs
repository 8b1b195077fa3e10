//! Renders `nginx/nginx.conf.template` for a fleet.

use std::path::PathBuf;

use crate::fleet::FleetOptions;

/// For `cargo xtask bench catalog` only: a location serving a file of `bench_static_dir`
/// straight from disk (the edge's physical ceiling); nothing otherwise.
fn bench_static(options: &FleetOptions) -> String {
    match &options.bench_static_dir {
        Some(dir) => format!(
            "        location ^~ /__bench/ {{\n            alias {}/;\n            default_type application/json;\n        }}\n",
            dir.display()
        ),
        None => String::new(),
    }
}

/// The stored media renditions, served from the S3 server's directory at `/files/` with the
/// headers a CDN would keep (the keys are content-hashed, so immutable).
fn media_files(options: &FleetOptions) -> String {
    let dir = options.run_dir.join("s3").join(crate::fleet::BUCKET).join("media");
    format!(
        "        location ^~ /files/media/ {{\n            alias {}/;\n            add_header Cache-Control \"public, max-age=31536000, immutable\" always;\n            include {}/security-headers.conf;\n        }}\n",
        dir.display(),
        crate::workspace_root().join("nginx").display()
    )
}

/// Writes the rendered config under the run directory and returns its path.
pub fn render(options: &FleetOptions) -> anyhow::Result<PathBuf> {
    let root = crate::workspace_root();
    let template = std::fs::read_to_string(root.join("nginx/nginx.conf.template"))?;
    let run_dir = options.run_dir.join("nginx");
    std::fs::create_dir_all(&run_dir)?;
    let gateway = format!("        server 127.0.0.1:{};", options.ports["gateway"]);
    let rendered = template
        .replace("{{RUN_DIR}}", &run_dir.display().to_string())
        .replace("{{CONF_DIR}}", &root.join("nginx").display().to_string())
        .replace("{{LISTEN}}", &format!("127.0.0.1:{}", options.nginx_port))
        .replace("{{GATEWAY_SERVERS}}", &gateway)
        .replace("{{PROXY_BIND}}", crate::fleet::NGINX_BIND)
        .replace("{{MASTER_PROCESS}}", "off")
        .replace("{{MAX_BODY}}", "1m")
        .replace("{{BENCH_STATIC}}", &bench_static(options))
        .replace("{{MEDIA_FILES}}", &media_files(options))
        .replace("{{RATE_PER_SECOND}}", &std::env::var("NGINX_RATE_PER_SECOND").unwrap_or_else(|_| "100".into()))
        .replace("{{RATE_BURST}}", &std::env::var("NGINX_RATE_BURST").unwrap_or_else(|_| "200".into()));
    anyhow::ensure!(!rendered.contains("{{"), "unrendered placeholder in the NGINX template");
    let path = run_dir.join("nginx.conf");
    std::fs::write(&path, rendered)?;
    Ok(path)
}
