//! The one handler: CORS, route, authenticate, revocation and rate limit (one Redis round trip),
//! permission, mint, forward through a circuit-broken instance, and every failure as a
//! problem+json.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use auth_jwt::{AccessClaims, AccessTokenVerifier, TokenError};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use internal_token::{Minter, Subject, token_problem};
use observability::{REQUEST_ID_HEADER, RouteLabel, current_request_id};
use service_kit::{Code, Problem};

use crate::config::GatewayConfig;
use crate::jwks::JwksCache;
use crate::limits::{Decision, Gate, TokenRef, Verdict};
use crate::path::forwardable;
use crate::routes::{AuthMode, RateClass, Route, match_route};
use crate::upstream::{Unavailable, Upstreams};

#[derive(Clone)]
pub struct Proxy(Arc<Inner>);

struct Inner {
    client: Client<HttpConnector, Body>,
    minter: Arc<Minter>,
    jwks: Arc<JwksCache>,
    verifier: AccessTokenVerifier,
    upstreams: Upstreams,
    gate: Gate,
    cors_origins: Vec<String>,
    timeout_override: Option<Duration>,
    /// Internal tokens handed to upstreams, by whether they came from the cache.
    minted: prometheus::IntCounterVec,
    verified: crate::verified::VerifiedTokens,
}

/// The client IP header services receive (from NGINX's X-Real-IP, never from the client).
const CLIENT_IP: HeaderName = HeaderName::from_static("x-client-ip");
const REAL_IP: &str = "x-real-ip";

impl Proxy {
    pub fn new(
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
        }))
    }

    /// The caller's claims if a token is present: `Ok(None)` when there is none.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<AccessClaims>, Problem> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| token_problem(&TokenError::Malformed))?;
        let ring = self.0.jwks.ring();
        if let Some(claims) = self.0.verified.get(token, &ring, auth_jwt::DEFAULT_LEEWAY_SECS) {
            return Ok(Some(claims));
        }
        let verified = match self.0.verifier.verify(token, &ring) {
            Err(TokenError::UnknownKey(_)) if self.0.jwks.refresh_for_unknown_kid().await => {
                self.0.verifier.verify(token, &self.0.jwks.ring())
            }
            other => other,
        };
        let claims = verified.map_err(|error| token_problem(&error))?;
        if let Some(kid) = auth_jwt::peek_header(token, auth_jwt::ACCESS_TOKEN_TYPE).ok().and_then(|h| h.kid) {
            self.0.verified.insert(token, kid, claims.clone());
        }
        Ok(Some(claims))
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
        response.extensions_mut().insert(RouteLabel(route.prefix.to_owned()));
    }
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
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
                "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset",
            ),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Every request to the gateway ends here (after the operational routes).
pub async fn handle(
    State(proxy): State<Proxy>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let origin = proxy.allowed_origin(request.headers());
    let Some(path) = forwardable(request.uri().path()) else {
        return finish(None, origin, Problem::not_found("no such route"));
    };
    let Some(route) = match_route(&path.segments) else {
        return finish(None, origin, Problem::not_found("no such route"));
    };
    if request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return finish(Some(route), origin.clone(), preflight(origin.is_some()));
    }
    match forward(&proxy, route, &path.raw, peer, request).await {
        Ok(response) => finish(Some(route), origin, response),
        Err(problem) => finish(Some(route), origin, problem),
    }
}

/// CORS preflight: answered here, never forwarded.
fn preflight(allowed: bool) -> Response {
    if !allowed {
        return Problem::forbidden("this origin may not call the API").into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, idempotency-key, x-request-id"),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// The caller's address: what NGINX put in X-Real-IP (the gateway is reachable only through
/// NGINX), else the peer.
fn client_ip(headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    headers.get(REAL_IP).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()).unwrap_or(peer.ip())
}

fn rate_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset.as_secs_f64().ceil() as u64));
}

async fn forward(
    proxy: &Proxy,
    route: &Route,
    raw_path: &str,
    peer: SocketAddr,
    request: Request,
) -> Result<Response, Problem> {
    let claims = proxy.authenticate(request.headers()).await?;
    if claims.is_none() && route.auth == AuthMode::Required {
        return Err(Problem::new(Code::TokenMissing, "this route needs an access token"));
    }
    let ip = client_ip(request.headers(), peer);

    // Revocation and rate limit in one round trip. Credentials routes are limited per IP; the
    // others per user when signed in, per IP otherwise.
    let key = match (&claims, route.rate_class) {
        (Some(claims), class) if class != RateClass::Credentials => format!("user:{}", claims.sub),
        _ => format!("ip:{ip}"),
    };
    let token = claims.as_ref().map(|c| TokenRef { jti: &c.jti, sub: &c.sub, iat: c.iat });
    let fail_closed = route.rate_class == RateClass::Admin || route.permission.is_some();
    let decision = match proxy.0.gate.check(route.rate_class, &key, token, fail_closed).await {
        Verdict::Revoked => return Err(Problem::new(Code::TokenRevoked, "this token has been revoked")),
        Verdict::RevocationUnknown => {
            return Err(
                Problem::new(Code::RevocationUnavailable, "cannot check the token right now").with_retry_after(1)
            );
        }
        Verdict::Limited(decision) => {
            let retry = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            let mut response =
                Problem::new(Code::RateLimited, "too many requests; slow down").with_retry_after(retry).into_response();
            rate_headers(response.headers_mut(), &decision);
            return Ok(response);
        }
        Verdict::Allowed(decision) => decision,
    };

    let subject = match (&claims, route.auth) {
        (Some(_), AuthMode::Public) | (None, _) => Subject::anonymous(),
        (Some(claims), _) => Subject::from_access(claims),
    };
    if let Some(permission) = route.permission
        && !subject.perms.iter().any(|p| p == permission.as_str())
    {
        return Err(Problem::forbidden(format!("this route needs the {permission} permission")));
    }
    let declared_length =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > route.max_body) {
        return Err(Problem::new(Code::PayloadTooLarge, "the request body is too large"));
    }

    let (mut parts, body) = request.into_parts();
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    scrub_headers(&mut parts.headers, route.upstream == "auth");
    let (token, cached) = proxy.0.minter.mint_counted(route.upstream, &subject);
    proxy.0.minted.with_label_values(&[if cached { "cache" } else { "signed" }]).inc();
    parts.headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("JWTs are header-safe"),
    );
    parts.headers.insert(CLIENT_IP, HeaderValue::from_str(&ip.to_string()).expect("an IP is header-safe"));
    if let Some(id) = current_request_id() {
        parts.headers.insert(REQUEST_ID_HEADER, id.header_value());
    }
    // A body without a length is capped while it streams.
    let body = if declared_length.is_none() && !matches!(parts.method, Method::GET | Method::HEAD) {
        Body::new(http_body_util::Limited::new(body, route.max_body as usize))
    } else {
        body
    };
    // Only a request without a body can be tried on a second instance.
    let replayable = matches!(parts.method, Method::GET | Method::HEAD) && declared_length.unwrap_or(0) == 0;
    let timeout = proxy.0.timeout_override.unwrap_or(route.timeout);

    let mut tried = None;
    let mut body = Some(body);
    loop {
        let (index, instance) =
            proxy.0.upstreams.pick(route.upstream, tried).map_err(|unavailable| match unavailable {
                Unavailable::NotConfigured => {
                    Problem::new(Code::UpstreamUnavailable, "no instance of this service is configured")
                }
                Unavailable::CircuitOpen => {
                    Problem::new(Code::UpstreamUnavailable, "the service is unavailable").with_retry_after(1)
                }
            })?;
        let uri: Uri =
            format!("{}{raw_path}{query}", instance.base).parse().map_err(|_| Problem::not_found("no such route"))?;
        let mut upstream_request =
            axum::http::Request::from_parts(parts.clone(), body.take().unwrap_or_else(Body::empty));
        *upstream_request.uri_mut() = uri;
        let outcome = tokio::time::timeout(timeout, proxy.0.client.request(upstream_request)).await;
        match outcome {
            Err(_) => {
                proxy.0.upstreams.failure(route.upstream, instance, "timeout");
                tracing::warn!(upstream = route.upstream, instance = %instance.base, ?timeout, "upstream timed out");
                return Err(Problem::new(Code::UpstreamTimeout, "the service did not answer in time"));
            }
            Ok(Err(error)) if error.is_connect() => {
                proxy.0.upstreams.failure(route.upstream, instance, "connect");
                tracing::warn!(upstream = route.upstream, instance = %instance.base, %error, "upstream unreachable");
                if replayable && tried.is_none() {
                    tried = Some(index);
                    continue;
                }
                return Err(Problem::new(Code::UpstreamUnavailable, "the service is unavailable").with_retry_after(1));
            }
            Ok(Err(error)) => {
                let too_large = std::error::Error::source(&error)
                    .is_some_and(|source| source.to_string().contains("length limit exceeded"));
                if too_large {
                    return Err(Problem::new(Code::PayloadTooLarge, "the request body is too large"));
                }
                tracing::warn!(upstream = route.upstream, %error, "upstream failed");
                return Err(Problem::new(Code::BadGateway, "the service failed to answer"));
            }
            Ok(Ok(response)) => {
                proxy.0.upstreams.success(route.upstream, instance);
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                rate_headers(&mut parts.headers, &decision);
                return Ok(Response::from_parts(parts, Body::new(body)));
            }
        }
    }
}

/// Drops what a client must not be able to say about itself or about the connection: the
/// caller's Authorization (replaced by an internal token), any internal-token or X-User-*
/// header, forwarding headers NGINX did not set, and hop-by-hop headers. Cookies reach only the
/// auth service (the storefront's HttpOnly refresh cookie); no other service reads any.
fn scrub_headers(headers: &mut HeaderMap, keep_cookies: bool) {
    strip_hop_by_hop(headers);
    let spoofable: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            let name = name.as_str();
            name.starts_with("x-user-")
                || name.starts_with("x-internal")
                || (name.starts_with("x-forwarded-") && name != "x-forwarded-for" && name != "x-forwarded-proto")
                || matches!(name, "forwarded" | "x-client-ip" | "x-real-ip" | "authorization" | "host")
                || (name == "cookie" && !keep_cookies)
        })
        .cloned()
        .collect();
    for name in spoofable {
        headers.remove(name);
    }
}

/// Removes the headers that describe one connection, not the message (RFC 9110 §7.6.1).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_spoofing_and_hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-user-id", "admin"),
            ("x-internal-token", "forged"),
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "for=1.2.3.4"),
            ("x-client-ip", "1.2.3.4"),
            ("authorization", "Bearer user-token"),
            ("connection", "keep-alive, x-secret"),
            ("x-secret", "hop"),
            ("x-forwarded-for", "203.0.113.7"),
            ("accept", "application/json"),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        headers.insert(HeaderName::from_static("cookie"), HeaderValue::from_static("shopfleet_refresh=abc"));
        let mut for_auth = headers.clone();
        scrub_headers(&mut headers, false);
        scrub_headers(&mut for_auth, true);
        assert!(for_auth.contains_key("cookie"), "the auth service gets the refresh cookie");
        let left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(headers.contains_key("x-forwarded-for"), "set by NGINX, kept");
        assert!(headers.contains_key("accept"));
    }
}
