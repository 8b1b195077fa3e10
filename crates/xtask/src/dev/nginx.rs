//! Renders `nginx/nginx.conf.template` with the values of where it runs (the local fleet, the
//! compose stack, Kubernetes).

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
