//! Runs the inventory service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(inventory::SERVICE, || async { inventory::build(inventory::config::from_env()?).await })
}
