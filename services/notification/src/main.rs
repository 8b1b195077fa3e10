//! Runs the notification service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(notification::SERVICE, || async {
        let spec = service_kit::fleet::spec(notification::SERVICE).expect("a fleet service");
        notification::build(ServiceConfig::from_env(*spec)?).await
    })
}
