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
pub mod product;
pub mod user;

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
    /// The service's answer is not the contract's shape.
    #[error("{service} answered something unreadable: {source}")]
    Decode { service: &'static str, source: reqwest::Error },
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
