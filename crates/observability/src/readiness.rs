//! A readiness check: one named probe of what a service depends on (its database, Redis, an
//! event consumer's group), run by the service kit's `/ready`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One named readiness check (database reachable, migrations applied, JWKS loaded, ...).
#[derive(Clone)]
pub struct ReadinessCheck {
    name: &'static str,
    run: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self { name, run: Arc::new(move || Box::pin(check())) }
    }

    /// The check's name, as `/ready` reports it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the check once.
    pub async fn run(&self) -> Result<(), String> {
        (self.run)().await
    }
}
