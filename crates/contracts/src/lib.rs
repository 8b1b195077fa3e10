//! Wire contracts: for each service that others call internally, its paths, request and
//! response types and a typed client over the kit's `InternalClient` (internal token, request
//! id, timeouts, replicas). Callers never build another service's URLs by hand.
//!
//! One crate with a module per called service, rather than a `*-api` crate each: on two cores
//! every extra crate costs a rustc invocation and a link per dependent, while these modules are
//! small and change together with their service; a module is the unit a service owns.

pub mod analytics;
pub mod auth;
pub mod cart;
pub mod inventory;
pub mod listing;
pub mod media;
pub mod order;
pub mod payment;
pub mod product;
pub mod user;

/// The values every wire type shares (SKUs, quantities, money, ids, statuses): the shop-types
/// crate, below events so the event catalog speaks them too.
pub use shop_types as types;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

/// Why an internal call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service could not be reached, or did not answer in time.
    #[error("{service} unreachable: {source}")]
    Transport { service: &'static str, source: reqwest::Error },
    /// The service answered with an error status.
    #[error("{service} answered {status}")]
    Status { service: &'static str, status: StatusCode },
    /// The service refused the request with a problem its caller may pass on as it is (a 4xx
    /// with a registered code: a taken email, an invalid field, a missing permission).
    #[error("{service} refused: {problem}")]
    Refused { service: &'static str, problem: service_kit::Problem },
    /// The service's answer is not the contract's shape.
    #[error("{service} answered something unreadable: {source}")]
    Decode { service: &'static str, source: reqwest::Error },
}

/// Like [`call_json`], for a caller that relays the owner's refusals: a 4xx answered with a
/// registered problem comes back as [`CallError::Refused`] carrying that problem.
async fn call_json_relayed<T: DeserializeOwned>(
    service: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<T, CallError> {
    let response = request.send().await.map_err(|source| CallError::Transport { service, source })?;
    let status = response.status();
    if status.is_client_error() {
        let body: Option<serde_json::Value> = response.json().await.ok();
        return Err(match body.as_ref().and_then(service_kit::Problem::from_body) {
            Some(problem) => CallError::Refused { service, problem },
            None => CallError::Status { service, status },
        });
    }
    if !status.is_success() {
        return Err(CallError::Status { service, status });
    }
    response.json().await.map_err(|source| CallError::Decode { service, source })
}

/// Sends `request` to `service` and reads a JSON answer of type `T`.
async fn call_json<T: DeserializeOwned>(
    service: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<T, CallError> {
    let response = request.send().await.map_err(|source| CallError::Transport { service, source })?;
    let status = response.status();
    if !status.is_success() {
        return Err(CallError::Status { service, status });
    }
    response.json().await.map_err(|source| CallError::Decode { service, source })
}

/// An answer, or `None` when the owner answered 404 `not_found`.
fn found<T>(answer: Result<T, CallError>) -> Result<Option<T>, CallError> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(CallError::Refused { problem, .. }) if problem.code() == service_kit::Code::NotFound => Ok(None),
        Err(other) => Err(other),
    }
}

/// A query-string value, percent-encoded (everything but RFC 3986's unreserved characters).
pub fn query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::query_value("a+b@x.io"), "a%2Bb%40x.io");
        assert_eq!(super::query_value("é &="), "%C3%A9%20%26%3D");
    }
}
