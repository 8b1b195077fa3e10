//! Runs the auth service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(auth::SERVICE, || async {
        auth::build(auth::AuthConfig::from_env()?).await
    })
}
