//! Runs the gateway; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(gateway::SERVICE, || async { gateway::build(gateway::GatewayConfig::from_env()?).await })
}
