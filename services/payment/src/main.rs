//! Runs the payment service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(payment::SERVICE, || async { payment::build(payment::config::from_env()?).await })
}
