//! Runs the cart service.

fn main() -> std::process::ExitCode {
    service_kit::run_main(cart::SERVICE, || async { cart::build(cart::CartConfig::from_env()?).await })
}
