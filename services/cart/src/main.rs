//! Runs the cart service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(cart::SERVICE, || async { cart::build(cart::config::from_env()?).await })
}
