//! Runs the cms service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_service::<cms::Service>()
}
