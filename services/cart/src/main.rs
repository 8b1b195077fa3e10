//! Runs the cart service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(cart::SERVICE, || async {
        let spec = service_kit::fleet::spec(cart::SERVICE).expect("a fleet service");
        cart::build(ServiceConfig::from_env(*spec)?).await
    })
}
