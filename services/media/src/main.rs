//! Runs the media service; see the library for what it does.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    service_kit::run_main(media::SERVICE, || async {
        let spec = service_kit::fleet::spec(media::SERVICE).expect("a fleet service");
        media::build(ServiceConfig::from_env(*spec)?).await
    })
}
