//! Runs the order service.

fn main() -> std::process::ExitCode {
    service_kit::run_main(order::SERVICE, || async { order::build(order::OrderConfig::from_env()?).await })
}
