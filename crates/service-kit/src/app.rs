//! The shape every service shares and the server that runs it.
//!
//! A service hands its business routes to [`ServiceRouter`]; what comes out answers `/health`,
//! `/ready` and `/metrics` openly, refuses everything else without a valid internal token
//! (401 problem+json), answers unknown paths with a 404 problem+json, and observes every
//! request (request id, span, access log, metrics).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use internal_token::{InternalGuard, Verifier, require_internal};
use observability::{HttpObserver, Metrics, ReadinessCheck, observe};
use problem::{Code, Problem};

use crate::health::health_routes;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::ServiceConfig;

/// Builds the router of a service around its business routes.
pub struct ServiceRouter {
    name: &'static str,
    metrics: Metrics,
    checks: Vec<ReadinessCheck>,
    max_body_bytes: usize,
}

impl ServiceRouter {
    pub fn new(config: &ServiceConfig, metrics: Metrics) -> Self {
        Self { name: config.name(), metrics, checks: Vec::new(), max_body_bytes: config.max_body_bytes }
    }

    pub fn check(mut self, check: ReadinessCheck) -> Self {
        self.checks.push(check);
        self
    }

    /// The full router of a service behind the zero-trust guard. `callers` lists every service
    /// allowed to call this one at all; single routes narrow it with `internal_token::only_from`.
    pub fn internal(self, verifier: Arc<Verifier>, callers: &'static [&'static str], business: Router) -> Router {
        let guarded = business
            .fallback(problem::not_found_fallback)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(from_fn_with_state(InternalGuard::new(verifier, callers), require_internal));
        self.finish(guarded)
    }

    /// The full router of a service that guards its own routes (the gateway).
    pub fn public(self, routes: Router) -> Router {
        self.finish(routes)
    }

    fn finish(self, routes: Router) -> Router {
        let observer = HttpObserver { service: self.name, metrics: self.metrics.http.clone() };
        health_routes(self.name, self.checks, self.metrics)
            .merge(routes)
            .layer(DefaultBodyLimit::max(self.max_body_bytes))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(from_fn_with_state(observer, observe))
    }
}

async fn method_not_allowed() -> Problem {
    Problem::new(Code::MethodNotAllowed, "this route does not take that method")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Problem::internal(&"handler panicked").into_response()
}

/// A bound listener and the router it serves.
pub struct Application {
    listener: TcpListener,
    router: Router,
    shutdown_timeout: Duration,
    background: Option<crate::background::Background>,
}

impl Application {
    /// Binds `bind` (port 0 picks a free port).
    pub async fn bind(bind: SocketAddr, router: Router, shutdown_timeout: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind).await?;
        Ok(Self { listener, router, shutdown_timeout, background: None })
    }

    /// Background tasks to stop and await on shutdown, alongside the draining server.
    pub fn with_background(mut self, background: crate::background::Background) -> Self {
        self.background = Some(background);
        self
    }

    /// What runs beside the routes (relay, consumer, jobs), as the service started it.
    pub fn background_parts(&self) -> crate::background::Parts {
        self.background.as_ref().map(crate::background::Background::started).unwrap_or_default()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests under the deadline.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let signal = crate::shutdown::install_signal_handlers()?;
        self.run_until(signal).await
    }

    /// Serves until `stop` resolves, then drains in-flight requests under the deadline.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = async move {
            stop.await;
            let _ = stopped_tx.send(());
        };
        // Responses are small and written whole: no reason to let Nagle hold them back.
        let listener = self.listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let server = axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(stop)
            .into_future();
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => return result,
            _ = stopped_rx => {}
        }
        let background = self.background;
        // In-flight requests drain while background tasks finish the item in hand and stop.
        let drain = async move {
            let stop_tasks = async {
                if let Some(background) = background {
                    background.stop_and_join().await;
                }
            };
            let (served, ()) = tokio::join!(server, stop_tasks);
            served
        };
        match tokio::time::timeout(self.shutdown_timeout, drain).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(timeout = ?self.shutdown_timeout, "in-flight work outlived the shutdown deadline");
                Ok(())
            }
        }
    }

    /// Runs in the background until `stop` is sent (or dropped), then shuts down as on SIGTERM;
    /// the task's handle resolves once it has (tests that kill and restart a service).
    pub fn spawn_stoppable(self) -> (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let addr = self.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _ = self
                .run_until(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        (addr, stop, handle)
    }

    /// Runs in the background until the runtime ends (tests); returns the address.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.local_addr();
        tokio::spawn(async move {
            let _ = self.run_until(std::future::pending()).await;
        });
        addr
    }
}
