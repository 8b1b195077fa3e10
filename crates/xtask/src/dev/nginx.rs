//! Renders `nginx/nginx.conf.template` for a fleet.

use std::path::PathBuf;

use crate::dev::fleet::FleetOptions;

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

/// What fills the template's placeholders.
pub(crate) struct Values {
    pub run_dir: String,
    pub conf_dir: String,
    pub access_log: String,
    pub error_log: String,
    pub listen: String,
    pub gateway_servers: String,
    pub proxy_bind: String,
    pub master_process: &'static str,
    pub bench_static: String,
    pub media_files: String,
}

/// The template with `values` put in.
pub(crate) fn render_text(values: &Values) -> anyhow::Result<String> {
    let template = std::fs::read_to_string(crate::workspace_root()?.join("nginx/nginx.conf.template"))?;
    let rendered = template
        .replace("{{RUN_DIR}}", &values.run_dir)
        .replace("{{CONF_DIR}}", &values.conf_dir)
        .replace("{{ACCESS_LOG}}", &values.access_log)
        .replace("{{ERROR_LOG}}", &values.error_log)
        .replace("{{LISTEN}}", &values.listen)
        .replace("{{GATEWAY_SERVERS}}", &values.gateway_servers)
        .replace("{{PROXY_BIND}}", &values.proxy_bind)
        .replace("{{MASTER_PROCESS}}", values.master_process)
        .replace("{{MAX_BODY}}", "1m")
        .replace("{{BENCH_STATIC}}", &values.bench_static)
        .replace("{{MEDIA_FILES}}", &values.media_files)
        .replace("{{RATE_PER_SECOND}}", &std::env::var("NGINX_RATE_PER_SECOND").unwrap_or_else(|_| "100".into()))
        .replace("{{RATE_BURST}}", &std::env::var("NGINX_RATE_BURST").unwrap_or_else(|_| "200".into()));
    anyhow::ensure!(!rendered.contains("{{"), "unrendered placeholder in the NGINX template");
    Ok(rendered)
}

/// The stored media renditions under `dir`, served at `/files/media/` with the headers a CDN
/// would keep (the keys are content-hashed, so immutable).
pub(crate) fn media_location(dir: &str, conf_dir: &str) -> String {
    format!(
        "        location ^~ /files/media/ {{\n            alias {dir}/;\n            add_header Cache-Control \"public, max-age=31536000, immutable\" always;\n            include {conf_dir}/security-headers.conf;\n        }}\n"
    )
}

/// Writes the rendered config under the run directory and returns its path.
pub(crate) fn render(options: &FleetOptions) -> anyhow::Result<PathBuf> {
    let root = crate::workspace_root()?;
    let run_dir = options.run_dir.join("nginx");
    std::fs::create_dir_all(&run_dir)?;
    let conf_dir = root.join("nginx").display().to_string();
    let media = options.run_dir.join("s3").join(crate::dev::fleet::BUCKET).join("media");
    let rendered = render_text(&Values {
        run_dir: run_dir.display().to_string(),
        access_log: run_dir.join("access.log").display().to_string(),
        error_log: run_dir.join("error.log").display().to_string(),
        listen: format!("127.0.0.1:{}", options.nginx_port),
        gateway_servers: format!("        server 127.0.0.1:{};", options.ports["gateway"]),
        proxy_bind: crate::dev::fleet::NGINX_BIND.to_owned(),
        master_process: "off",
        bench_static: bench_static(options),
        media_files: media_location(&media.display().to_string(), &conf_dir),
        conf_dir,
    })?;
    let path = run_dir.join("nginx.conf");
    std::fs::write(&path, rendered)?;
    Ok(path)
}
