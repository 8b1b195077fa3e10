//! What the gateway itself answers when it does not forward a request: every failure of the
//! edge as a problem+json with its status (the statuses the OpenAPI spec lists for every route).

use auth_jwt::TokenError;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use service_kit::{Code, Permission, Problem};

use crate::limits::Decision;

/// Why the gateway answered a request itself.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404 `not_found`: no entry of the route table serves this path (or it could reach
    /// `/internal`).
    #[error("no such route")]
    NoRoute,
    /// 405 `method_not_allowed`: the path is served, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 403 `forbidden`: a CORS preflight from an origin that may not call the API.
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// 401 `token_missing`: the route needs an access token and none was sent.
    #[error("token missing")]
    TokenMissing,
    /// 401 with the token's own code (`token_expired`, `token_invalid_signature`, ...).
    #[error("token refused: {0}")]
    Token(#[from] TokenError),
    /// 401 `token_revoked`: logged out, or every token of the user was revoked.
    #[error("token revoked")]
    TokenRevoked,
    /// 503 `revocation_unavailable`: Redis is down and this route fails closed.
    #[error("revocation unavailable")]
    RevocationUnavailable,
    /// 429 `rate_limited` with `Retry-After` and the RateLimit headers.
    #[error("rate limited")]
    RateLimited(Decision),
    /// 403 `forbidden`: the token lacks the route's permission.
    #[error("missing permission {0}")]
    MissingPermission(Permission),
    /// 413 `payload_too_large`: the body is larger than the route's limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 503 `upstream_unavailable`: no instance of the service is configured.
    #[error("upstream not configured")]
    UpstreamNotConfigured,
    /// 503 `upstream_unavailable` with `Retry-After: 1`: every instance is down or its circuit open.
    #[error("upstream unavailable")]
    UpstreamUnavailable,
    /// 504 `upstream_timeout`: the service did not answer within the route's timeout.
    #[error("upstream timed out")]
    UpstreamTimeout,
    /// 502 `bad_gateway`: the service failed to answer properly.
    #[error("bad gateway")]
    BadGateway,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            ApiError::NoRoute => Problem::not_found("no such route"),
            ApiError::MethodNotAllowed => Problem::new(Code::MethodNotAllowed, "this route does not take that method"),
            ApiError::OriginNotAllowed => Problem::forbidden("this origin may not call the API"),
            ApiError::TokenMissing => Problem::new(Code::TokenMissing, "this route needs an access token"),
            ApiError::Token(error) => internal_token::token_problem(&error),
            ApiError::TokenRevoked => Problem::new(Code::TokenRevoked, "this token has been revoked"),
            ApiError::RevocationUnavailable => {
                Problem::new(Code::RevocationUnavailable, "cannot check the token right now").with_retry_after(1)
            }
            ApiError::RateLimited(decision) => {
                let retry = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
                let mut response = Problem::new(Code::RateLimited, "too many requests; slow down")
                    .with_retry_after(retry)
                    .into_response();
                rate_headers(response.headers_mut(), &decision);
                return response;
            }
            ApiError::MissingPermission(permission) => {
                Problem::forbidden(format!("this route needs the {permission} permission"))
            }
            ApiError::PayloadTooLarge => Problem::new(Code::PayloadTooLarge, "the request body is too large"),
            ApiError::UpstreamNotConfigured => {
                Problem::new(Code::UpstreamUnavailable, "no instance of this service is configured")
            }
            ApiError::UpstreamUnavailable => {
                Problem::new(Code::UpstreamUnavailable, "the service is unavailable").with_retry_after(1)
            }
            ApiError::UpstreamTimeout => Problem::new(Code::UpstreamTimeout, "the service did not answer in time"),
            ApiError::BadGateway => Problem::new(Code::BadGateway, "the service failed to answer"),
        };
        problem.into_response()
    }
}

/// The RateLimit headers of a decision (on every forwarded response and on a 429).
pub fn rate_headers(headers: &mut axum::http::HeaderMap, decision: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset.as_secs_f64().ceil() as u64));
}

/// The result of the gateway's own steps.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
