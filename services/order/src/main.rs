//! Runs the order service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(order::SERVICE, || async {
        let spec = service_kit::fleet::spec(order::SERVICE).expect("a fleet service");
        order::build(ServiceConfig::from_env(*spec)?).await
    })
}
