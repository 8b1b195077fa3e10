//! Graceful shutdown: SIGTERM or Ctrl-C stops accepting connections; in-flight requests finish
//! under a deadline.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// Installs the SIGTERM and SIGINT handlers now (so a signal arriving before the server is
/// polled is not lost, and never kills the process) and returns a future that resolves on the
/// first of them.
pub fn install_signal_handlers() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        let which = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = which, "shutting down: no new connections, draining in-flight requests");
    })
}
