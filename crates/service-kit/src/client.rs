//! The internal HTTP client: every call carries a (cached) internal token for the called
//! service and the current request id, with connect and request timeouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use internal_token::{Minter, Subject};
use observability::{REQUEST_ID_HEADER, current_request_id};
use reqwest::Method;

use crate::config::ServiceConfig;

/// Calls other services of the fleet.
#[derive(Clone)]
pub struct InternalClient {
    http: reqwest::Client,
    minter: Arc<Minter>,
    urls: Arc<Vec<(String, Vec<String>)>>,
    next: Arc<AtomicUsize>,
}

impl InternalClient {
    pub fn new(config: &ServiceConfig, minter: Arc<Minter>) -> reqwest::Result<Self> {
        Self::with_timeouts(
            minter,
            config.service_urls.clone(),
            config.client_connect_timeout,
            config.client_request_timeout,
        )
    }

    pub fn with_timeouts(
        minter: Arc<Minter>,
        urls: Vec<(String, Vec<String>)>,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { http, minter, urls: Arc::new(urls), next: Arc::new(AtomicUsize::new(0)) })
    }

    /// A request to `path` of `service` on behalf of `subject`, with the internal token and the
    /// current request id attached. Replicas are taken in turn.
    pub fn request(&self, method: Method, service: &str, path: &str, subject: &Subject) -> reqwest::RequestBuilder {
        let base = self.base_url(service);
        let token = self.minter.mint(service, subject);
        let mut builder = self.http.request(method, format!("{base}{path}")).bearer_auth(&*token);
        if let Some(id) = current_request_id() {
            builder = builder.header(REQUEST_ID_HEADER, id.as_str());
        }
        builder
    }

    fn base_url(&self, service: &str) -> String {
        let urls = self.urls.iter().find(|(name, _)| name == service).map(|(_, urls)| urls.as_slice()).unwrap_or(&[]);
        if urls.is_empty() {
            // An unknown service is a programming error; an unroutable URL surfaces it as a
            // connect error rather than a panic in a request path.
            return format!("http://unconfigured-service-{service}.invalid");
        }
        urls[self.next.fetch_add(1, Ordering::Relaxed) % urls.len()].clone()
    }
}
