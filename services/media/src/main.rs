//! Runs the media service; see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    service_kit::run_main(media::SERVICE, || async { media::build(media::MediaConfig::from_env()?).await })
}
