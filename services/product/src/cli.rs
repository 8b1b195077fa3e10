//! The product binary's commands besides serving: `product seed-demo` fills the catalog with
//! the demo data (reading the same configuration as the service, migrating first).

use std::process::ExitCode;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] service_kit::ConfigError),
    #[error("{0}")]
    Start(#[from] service_kit::StartError),
    #[error("seeding failed: {0}")]
    Seed(#[from] crate::error::ApiError),
    #[error("cannot make the outbox: {0}")]
    Outbox(#[from] sqlx::Error),
}

/// Runs the command named by `args`, or `None` when they name none (then the binary serves).
pub fn run(args: &[String]) -> Option<ExitCode> {
    match args.first().map(String::as_str) {
        Some("seed-demo") => Some(service_kit::run_command("product seed-demo", seed_demo)),
        _ => None,
    }
}

async fn seed_demo() -> Result<String, CliError> {
    let config = crate::config::ProductConfig::from_env()?;
    let context = service_kit::Context::start(config.service).await?.with_database(&crate::MIGRATOR).await?;
    events::schema::ensure_outbox(&context.db).await?;
    let count = crate::seed::seed_demo_catalog(&context.db, context.config.currency).await?;
    Ok(format!("product seed-demo: {count} new demo products"))
}
