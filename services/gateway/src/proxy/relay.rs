//! The last stage of forwarding: relay the request to an instance of the upstream (picked past
//! open circuits), within the route's timeout, trying a second instance only for a request
//! without a body whose first instance could not be reached; the response streams back.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::response::Response;

use super::Proxy;
use crate::error::{ApiError, Result};
use crate::hygiene::strip_hop_by_hop;
use crate::route_table::Route;
use crate::upstream::{Probe, Unavailable};

/// A request ready for the upstream: prepared headers, its body and where it goes.
pub(crate) struct Outbound {
    pub parts: Parts,
    pub body: Body,
    /// The raw path after `/api/v1` with its query, forwarded unchanged.
    pub path_and_query: String,
    pub declared_length: Option<u64>,
}

pub(crate) async fn relay(proxy: &Proxy, route: &Route, outbound: Outbound) -> Result<Response> {
    let Outbound { parts, body, path_and_query, declared_length } = outbound;
    // A body without a declared length is capped while it streams.
    let body = if declared_length.is_none() && !matches!(parts.method, Method::GET | Method::HEAD) {
        Body::new(http_body_util::Limited::new(body, route.max_body as usize))
    } else {
        body
    };
    // Only a request without a body can be tried on a second instance.
    let replayable = matches!(parts.method, Method::GET | Method::HEAD) && declared_length.unwrap_or(0) == 0;
    let timeout = proxy.timeout_for(route);
    let upstreams = proxy.upstreams();

    let mut tried = None;
    let mut body = Some(body);
    loop {
        let (index, instance) = upstreams.pick(route.upstream, tried).map_err(|unavailable| match unavailable {
            Unavailable::NotConfigured => ApiError::UpstreamNotConfigured,
            Unavailable::CircuitOpen => ApiError::UpstreamUnavailable,
        })?;
        // Every way this attempt ends reports to the instance's breaker (a drop counts too).
        let probe = Probe::new(upstreams, route.upstream, instance);
        let uri: Uri = format!("{}{path_and_query}", instance.base).parse().map_err(|_| ApiError::NoRoute)?;
        let mut request = axum::http::Request::from_parts(parts.clone(), body.take().unwrap_or_else(Body::empty));
        *request.uri_mut() = uri;
        match tokio::time::timeout(timeout, proxy.client().request(request)).await {
            Err(_) => {
                probe.failure("timeout");
                tracing::warn!(upstream = route.upstream, instance = %instance.base, ?timeout, "upstream timed out");
                return Err(ApiError::UpstreamTimeout);
            }
            Ok(Err(error)) if error.is_connect() => {
                probe.failure("connect");
                tracing::warn!(upstream = route.upstream, instance = %instance.base, error = %service_kit::Chain(&error), "upstream unreachable");
                if replayable && tried.is_none() {
                    tried = Some(index);
                    continue;
                }
                return Err(ApiError::UpstreamUnavailable);
            }
            Ok(Err(error)) => {
                if body_too_large(&error) {
                    probe.release();
                    return Err(ApiError::PayloadTooLarge);
                }
                probe.failure("transport");
                tracing::warn!(upstream = route.upstream, error = %service_kit::Chain(&error), "upstream failed");
                return Err(ApiError::BadGateway);
            }
            Ok(Ok(response)) => {
                // Any answer, an upstream's own 503 `busy` included, is a live instance.
                probe.success();
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                return Ok(Response::from_parts(parts, Body::new(body)));
            }
        }
    }
}

/// Whether the client's body broke the streaming cap: recognised by the error's type in the
/// source chain, never by its text.
fn body_too_large(error: &hyper_util::client::legacy::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}
