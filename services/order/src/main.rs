//! Runs the order service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(order::SERVICE, || async { order::build(order::config::from_env()?).await })
}
