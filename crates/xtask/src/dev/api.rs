//! The public API through NGINX, as its clients call it: one client the fleet walk, the crash
//! test's and the checkout benchmark's shoppers share, with the paths the API documents
//! (`/auth/login`, not a URL built at each call).

use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::dev::fleet::Fleet;

/// An answer: status and JSON body (null when there is none).
pub(crate) type Answer = (u16, Value);

/// The shop's public API at `/api/v1` behind NGINX.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub(crate) fn new(fleet: &Fleet, http: reqwest::Client) -> Self {
        Self { http, base: format!("{}/api/v1", fleet.nginx_url()) }
    }

    /// The HTTP client itself, for what is not the API (NGINX's own paths, a presigned URL, a
    /// service's operational routes).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request to the API's `path` (`/products?limit=5`).
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }
}

/// Sends `request` and reads its answer (a body that is no JSON reads as null).
pub(crate) async fn answer(request: RequestBuilder) -> reqwest::Result<Answer> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}
