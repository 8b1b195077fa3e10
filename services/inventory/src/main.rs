//! Runs the inventory service, or one of its commands (see `cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    inventory::cli::run(&args).unwrap_or_else(service_kit::run_service::<inventory::Service>)
}
