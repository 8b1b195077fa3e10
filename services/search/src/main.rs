//! Runs the search service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(search::SERVICE, || async {
        let spec = service_kit::fleet::spec(search::SERVICE).expect("a fleet service");
        search::build(ServiceConfig::from_env(*spec)?).await
    })
}
