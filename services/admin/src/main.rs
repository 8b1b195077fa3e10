//! Runs the admin service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(admin::SERVICE, || async {
        let spec = service_kit::fleet::spec(admin::SERVICE).expect("a fleet service");
        admin::build(ServiceConfig::from_env(*spec)?).await
    })
}
