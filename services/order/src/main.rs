//! Runs the order service.

fn main() -> std::process::ExitCode {
    service_kit::run_service::<order::Service>()
}
