//! Runs the product service, or one of its commands (see `cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    product::cli::run(&args).unwrap_or_else(service_kit::run_service::<product::Service>)
}
