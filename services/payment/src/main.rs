//! Runs the payment service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(payment::SERVICE, || async {
        let spec = service_kit::fleet::spec(payment::SERVICE).expect("a fleet service");
        payment::build(ServiceConfig::from_env(*spec)?).await
    })
}
