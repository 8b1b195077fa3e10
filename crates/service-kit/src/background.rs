//! The background tasks of a service, stopped and awaited on shutdown.

use std::sync::Arc;

/// The background tasks of a service (event relays, consumers): told to stop on shutdown and
/// awaited, under the shutdown deadline, after in-flight requests.
#[derive(Clone)]
pub struct Background {
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    handles: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Default for Background {
    fn default() -> Self {
        Self { stop: Arc::new(tokio::sync::watch::channel(false).0), handles: Arc::default() }
    }
}

impl Background {
    /// What a task watches to know it must stop.
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub fn add(&self, handle: tokio::task::JoinHandle<()>) {
        self.handles.lock().expect("background lock").push(handle);
    }

    /// Runs `job` every `period` (first after one period) until the service stops; a job in
    /// progress finishes before the stop is noticed.
    pub fn every<F, Fut>(&self, period: std::time::Duration, mut job: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let mut stop = self.stop_signal();
        self.add(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(period) => job().await,
                    _ = stop.changed() => return,
                }
            }
        }));
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
