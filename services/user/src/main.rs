//! Runs the user service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(user::SERVICE, || async {
        let spec = service_kit::fleet::spec(user::SERVICE).expect("a fleet service");
        user::build(ServiceConfig::from_env(*spec)?).await
    })
}
