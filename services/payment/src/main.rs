//! Runs the payment service.

fn main() -> std::process::ExitCode {
    service_kit::run_service::<payment::Service>()
}
