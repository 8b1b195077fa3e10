//! Runs the cms service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(cms::SERVICE, || async {
        let spec = service_kit::fleet::spec(cms::SERVICE).expect("a fleet service");
        cms::build(ServiceConfig::from_env(*spec)?).await
    })
}
