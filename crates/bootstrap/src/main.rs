//! `bootstrap keys|stores`: what the compose stack's one-shot containers and the Kubernetes
//! bootstrap Job run, configured by the environment (see the library's `run`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match bootstrap::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bootstrap: {error:#}");
            ExitCode::FAILURE
        }
    }
}
