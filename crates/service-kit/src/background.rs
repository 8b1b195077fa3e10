//! The background tasks of a service, stopped and awaited on shutdown.

use std::sync::Arc;

/// The background tasks of a service (event relays, consumers, periodic jobs): told to stop on
/// shutdown and awaited, under the shutdown deadline, after in-flight requests.
#[derive(Clone)]
pub struct Background {
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    handles: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    parts: Arc<std::sync::Mutex<Parts>>,
}

/// What a service runs beside its routes, as it started it: whether it relays an outbox to its
/// stream, the event domains its consumer reads, its periodic jobs by name. The conformance
/// suite holds it to what the service's `FleetService` type declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parts {
    pub relays: bool,
    pub consumes: Vec<String>,
    pub jobs: Vec<&'static str>,
}

impl Default for Background {
    fn default() -> Self {
        Self { stop: Arc::new(tokio::sync::watch::channel(false).0), handles: Arc::default(), parts: Arc::default() }
    }
}

impl Background {
    /// What a task watches to know it must stop.
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub(crate) fn add(&self, handle: tokio::task::JoinHandle<()>) {
        self.handles.lock().expect("background lock").push(handle);
    }

    /// A long-running job of the service's own, `name`d (a reloader, a sender, an index build):
    /// stopped and awaited like the rest.
    pub fn job(&self, name: &'static str, handle: tokio::task::JoinHandle<()>) {
        self.parts().jobs.push(name);
        self.add(handle);
    }

    /// Runs the job `name` every `period` (first after one period) until the service stops; a
    /// job in progress finishes before the stop is noticed.
    pub fn every<F, Fut>(&self, name: &'static str, period: std::time::Duration, mut job: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let mut stop = self.stop_signal();
        self.job(
            name,
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(period) => job().await,
                        _ = stop.changed() => return,
                    }
                }
            }),
        );
    }

    fn parts(&self) -> std::sync::MutexGuard<'_, Parts> {
        self.parts.lock().expect("background lock")
    }

    /// Records that the outbox relay runs.
    pub(crate) fn record_relay(&self) {
        self.parts().relays = true;
    }

    /// Records the event domains a consumer reads.
    pub(crate) fn record_consumer(&self, domains: impl IntoIterator<Item = String>) {
        self.parts().consumes.extend(domains);
    }

    /// What was started so far.
    pub fn started(&self) -> Parts {
        self.parts().clone()
    }

    /// Tells every task to stop and waits for them.
    pub async fn stop_and_join(&self) {
        let _ = self.stop.send(true);
        let handles: Vec<_> = std::mem::take(&mut *self.handles.lock().expect("background lock"));
        for handle in handles {
            let _ = handle.await;
        }
    }
}
