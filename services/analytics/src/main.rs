//! Runs the analytics service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(analytics::SERVICE, || async {
        let spec = service_kit::fleet::spec(analytics::SERVICE).expect("a fleet service");
        analytics::build(ServiceConfig::from_env(*spec)?).await
    })
}
