//! Runs the payment service.

fn main() -> std::process::ExitCode {
    service_kit::run_main(payment::SERVICE, || async { payment::build(payment::PaymentConfig::from_env()?).await })
}
