//! The inventory binary's commands besides serving: `inventory seed-demo` gives every demo SKU
//! its starting stock (reading the same configuration as the service, migrating first). SKUs
//! that already have stock are left alone, so a second run changes nothing.

use std::process::ExitCode;

use crate::store::Why;

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
        Some("seed-demo") => Some(service_kit::run_command("inventory seed-demo", seed_demo)),
        _ => None,
    }
}

async fn seed_demo() -> Result<String, CliError> {
    let config = crate::config::InventoryConfig::from_env()?;
    let context = service_kit::Context::start(config.service).await?.with_database(&crate::MIGRATOR).await?;
    events::schema::ensure_outbox(&context.db).await?;
    let skus = demo::skus();
    let known = crate::store::stock_of(&context.db, &skus).await?;
    let why = Why { reason: "demo-seed", reference: None, actor: "inventory seed-demo" };
    let mut seeded = 0;
    for sku in skus.iter().filter(|sku| !known.iter().any(|row| row.sku == **sku)) {
        crate::stock::set_on_hand(&context.db, sku, demo::STOCK_ON_HAND, None, &why).await?;
        seeded += 1;
    }
    Ok(format!("inventory seed-demo: {seeded} SKUs stocked with {} each", demo::STOCK_ON_HAND))
}
