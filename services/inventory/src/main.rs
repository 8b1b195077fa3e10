//! Runs the inventory service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(inventory::SERVICE, || async {
        let spec = service_kit::fleet::spec(inventory::SERVICE).expect("a fleet service");
        inventory::build(ServiceConfig::from_env(*spec)?).await
    })
}
