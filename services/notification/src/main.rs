//! Runs the notification service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(notification::SERVICE, || async {
        notification::build(notification::NotificationConfig::from_env()?).await
    })
}
