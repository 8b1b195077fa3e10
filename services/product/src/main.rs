//! Runs the product service; `product seed-demo` instead fills the catalog with demo data.

use std::process::ExitCode;

use service_kit::ServiceConfig;

fn main() -> ExitCode {
    let spec = *service_kit::fleet::spec(product::SERVICE).expect("a fleet service");
    if std::env::args().nth(1).as_deref() == Some("seed-demo") {
        return product::seed::run_from_env(spec);
    }
    service_kit::run_main(product::SERVICE, || async move { product::build(ServiceConfig::from_env(spec)?).await })
}
