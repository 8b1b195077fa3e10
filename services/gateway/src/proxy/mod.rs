//! The one handler: route, CORS, then the pipeline admit (`admit`: authenticate, revocation and
//! rate limit in one Redis round trip, permission) → header hygiene (`hygiene`) → relay (`relay`:
//! replica pick, timeout, retry); every failure as a problem+json (`error`).

mod admit;
mod relay;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use auth_jwt::{AccessClaims, AccessTokenVerifier, TokenError};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use internal_token::{Minter, Subject};
use observability::RouteLabel;
use problem::PROBLEM_CONTENT_TYPE;
use service_kit::headers::REAL_IP;
use service_kit::net::Cidr;

use self::admit::admit;
use self::relay::{Outbound, relay};
use crate::config::GatewayConfig;
use crate::domain::path::forwardable;
use crate::error::{ApiError, Result, rate_headers};
use crate::hygiene;
use crate::jwks::JwksCache;
use crate::limits::Gate;
use crate::route_table::{Route, match_any_method, match_route};
use crate::upstream::Upstreams;

#[derive(Clone)]
pub(crate) struct Proxy(Arc<Inner>);

struct Inner {
    client: Client<HttpConnector, Body>,
    minter: Arc<Minter>,
    jwks: Arc<JwksCache>,
    verifier: AccessTokenVerifier,
    upstreams: Upstreams,
    gate: Gate,
    cors_origins: Vec<String>,
    timeout_override: Option<Duration>,
    trusted_proxies: Vec<Cidr>,
    /// Internal tokens handed to upstreams, by whether they came from the cache.
    minted: prometheus::IntCounterVec,
    verified: crate::verified::VerifiedTokens,
}

impl Proxy {
    pub(crate) fn new(
        config: &GatewayConfig,
        minter: Arc<Minter>,
        jwks: Arc<JwksCache>,
        gate: Gate,
        metrics: &observability::Metrics,
    ) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(config.service.client_connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build(connector);
        let minted = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "gateway_internal_tokens_total",
                "Internal tokens attached to upstream calls, by source.",
            ),
            &["source"],
        )
        .expect("valid metric");
        metrics.register(Box::new(minted.clone())).expect("registered once");
        Self(Arc::new(Inner {
            verified: crate::verified::VerifiedTokens::default(),
            minted,
            client,
            minter,
            jwks,
            verifier: AccessTokenVerifier::new(&config.issuer, &config.audience, auth_jwt::DEFAULT_LEEWAY_SECS),
            upstreams: Upstreams::new(&config.service.service_urls, config.breaker, metrics),
            gate,
            cors_origins: config.cors_origins.clone(),
            timeout_override: config.timeout_override,
            trusted_proxies: config.trusted_proxies.clone(),
        }))
    }

    /// The caller's claims if a token is present: `Ok(None)` when there is none.
    pub(crate) async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<AccessClaims>> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::Malformed)?;
        let ring = self.0.jwks.ring();
        if let Some(claims) = self.0.verified.get(token, &ring, auth_jwt::DEFAULT_LEEWAY_SECS) {
            return Ok(Some(claims));
        }
        let verified = match self.0.verifier.verify_with_kid(token, &ring) {
            Err(TokenError::UnknownKey(_)) if self.0.jwks.refresh_for_unknown_kid().await => {
                self.0.verifier.verify_with_kid(token, &self.0.jwks.ring())
            }
            other => other,
        };
        let (claims, kid) = verified?;
        self.0.verified.insert(token, kid, claims.clone());
        Ok(Some(claims))
    }

    pub(crate) fn gate(&self) -> &Gate {
        &self.0.gate
    }

    pub(crate) fn upstreams(&self) -> &Upstreams {
        &self.0.upstreams
    }

    pub(crate) fn client(&self) -> &Client<HttpConnector, Body> {
        &self.0.client
    }

    /// The route's timeout, unless the configuration replaces every route's (tests).
    pub(crate) fn timeout_for(&self, route: &Route) -> Duration {
        self.0.timeout_override.unwrap_or(route.timeout)
    }

    /// Mints (or reuses) the internal token for a call to `upstream` on behalf of `subject`.
    fn internal_token(&self, upstream: &str, subject: &Subject) -> Arc<str> {
        let (token, cached) = self.0.minter.mint_counted(upstream, subject);
        self.0.minted.with_label_values(&[if cached { "cache" } else { "signed" }]).inc();
        token
    }

    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.0.cors_origins.iter().any(|o| o == text).then(|| origin.clone())
    }
}

/// Labels the response with its route (for metrics), asks for a bearer token on our own 401s,
/// and adds the CORS headers for an allowed origin.
fn finish(route: Option<&Route>, origin: Option<HeaderValue>, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route.pattern.to_owned()));
    }
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == PROBLEM_CONTENT_TYPE);
    if is_problem && response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, etag",
            ),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Every request to the gateway ends here (after the operational routes): route, answer a CORS
/// preflight, then forward through admit → hygiene → relay.
pub(crate) async fn handle(
    State(proxy): State<Proxy>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let origin = proxy.allowed_origin(request.headers());
    let Some(path) = forwardable(request.uri().path()) else {
        return finish(None, origin, ApiError::NoRoute);
    };
    let Some(known) = match_any_method(&path.segments) else {
        return finish(None, origin, ApiError::NoRoute);
    };
    if request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return finish(Some(known), origin.clone(), preflight(origin.is_some()));
    }
    let Some(route) = match_route(request.method(), &path.segments) else {
        return finish(Some(known), origin, ApiError::MethodNotAllowed);
    };
    let outcome = forward(&proxy, route, path.raw, peer, request).await;
    finish(Some(route), origin, outcome)
}

/// The pipeline: admit (who, how often, may they), header hygiene, relay.
async fn forward(
    proxy: &Proxy,
    route: &Route,
    raw_path: String,
    peer: SocketAddr,
    request: Request,
) -> Result<Response> {
    let ip = client_ip(request.headers(), peer, &proxy.0.trusted_proxies);
    let admitted = admit(proxy, route, request.headers(), ip).await?;
    let (mut parts, body) = request.into_parts();
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let internal_token = proxy.internal_token(route.upstream, &admitted.subject);
    let public = route.auth == crate::route_table::AuthMode::Public;
    hygiene::prepare(&mut parts.headers, public, route.forward_cookies, &internal_token, ip);
    let outbound = Outbound {
        parts,
        body,
        path_and_query: format!("{raw_path}{query}"),
        declared_length: admitted.declared_length,
    };
    let mut response = relay(proxy, route, outbound).await?;
    rate_headers(response.headers_mut(), &admitted.decision);
    Ok(response)
}

/// CORS preflight: answered here, never forwarded.
fn preflight(allowed: bool) -> Response {
    if !allowed {
        return ApiError::OriginNotAllowed.into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "authorization, content-type, idempotency-key, x-request-id, x-cart-token, if-none-match",
        ),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// The caller's address: what a trusted proxy (NGINX) put in X-Real-IP, else the TCP peer. A
/// peer that is not a trusted proxy cannot name its own address (review M2).
fn client_ip(headers: &HeaderMap, peer: SocketAddr, trusted_proxies: &[Cidr]) -> IpAddr {
    if !trusted_proxies.iter().any(|range| range.contains(peer.ip())) {
        return peer.ip();
    }
    headers.get(REAL_IP).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()).unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let mut headers = HeaderMap::new();
        headers.insert(REAL_IP, HeaderValue::from_static("198.51.100.7"));
        let trusted: Vec<Cidr> = vec!["127.0.0.2/32".parse().unwrap()];
        let nginx: SocketAddr = "127.0.0.2:40000".parse().unwrap();
        let direct: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        assert_eq!(client_ip(&headers, nginx, &trusted), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(&headers, direct, &trusted), direct.ip(), "a direct caller is its own address");
        assert_eq!(client_ip(&headers, nginx, &[]), nginx.ip(), "no trusted proxy configured: the peer");
    }
}
