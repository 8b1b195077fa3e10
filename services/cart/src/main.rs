//! Runs the cart service.

fn main() -> std::process::ExitCode {
    service_kit::run_service::<cart::Service>()
}
