//! The one handler: route, authenticate, mint, forward, and turn every failure into a
//! problem+json.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_jwt::{AccessClaims, AccessTokenVerifier, TokenError};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use internal_token::{Minter, Subject};
use observability::{REQUEST_ID_HEADER, RouteLabel, current_request_id};
use service_kit::Problem;

use crate::config::GatewayConfig;
use crate::jwks::JwksCache;
use crate::path::forwardable;
use crate::routes::{AuthMode, Route, match_route};

#[derive(Clone)]
pub struct Proxy(Arc<Inner>);

struct Inner {
    client: Client<HttpConnector, Body>,
    minter: Arc<Minter>,
    jwks: Arc<JwksCache>,
    verifier: AccessTokenVerifier,
    upstreams: Vec<(String, Vec<String>)>,
    next: AtomicUsize,
    timeout_override: Option<Duration>,
}

/// The client IP header services receive (from NGINX's X-Real-IP, never from the client).
const CLIENT_IP: HeaderName = HeaderName::from_static("x-client-ip");
const REAL_IP: &str = "x-real-ip";

impl Proxy {
    pub fn new(config: &GatewayConfig, minter: Arc<Minter>, jwks: Arc<JwksCache>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(config.service.client_connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build(connector);
        Self(Arc::new(Inner {
            client,
            minter,
            jwks,
            verifier: AccessTokenVerifier::new(&config.issuer, &config.audience, auth_jwt::DEFAULT_LEEWAY_SECS),
            upstreams: config.service.service_urls.clone(),
            next: AtomicUsize::new(0),
            timeout_override: config.timeout_override,
        }))
    }

    fn upstream_base(&self, service: &str) -> Option<&str> {
        let urls = self
            .0
            .upstreams
            .iter()
            .find(|(name, _)| name == service)
            .map(|(_, urls)| urls)?;
        (!urls.is_empty()).then(|| urls[self.0.next.fetch_add(1, Ordering::Relaxed) % urls.len()].as_str())
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
        let verified = match self.0.verifier.verify(token, &self.0.jwks.ring()) {
            Err(TokenError::UnknownKey(_)) if self.0.jwks.refresh_for_unknown_kid().await => {
                self.0.verifier.verify(token, &self.0.jwks.ring())
            }
            other => other,
        };
        verified.map(Some).map_err(|error| token_problem(&error))
    }
}

fn token_problem(error: &TokenError) -> Problem {
    Problem::unauthorized(error.code(), error.to_string())
}

fn with_route(route: Option<&Route>, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route.prefix.to_owned()));
    }
    if response.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Every request to the gateway ends here (after the operational routes).
pub async fn handle(
    State(proxy): State<Proxy>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let Some(path) = forwardable(request.uri().path()) else {
        return with_route(None, Problem::not_found("no such route"));
    };
    let Some(route) = match_route(&path.segments) else {
        return with_route(None, Problem::not_found("no such route"));
    };
    match forward(&proxy, route, &path.raw, peer, request).await {
        Ok(response) => with_route(Some(route), response),
        Err(problem) => with_route(Some(route), problem),
    }
}

async fn forward(
    proxy: &Proxy,
    route: &Route,
    raw_path: &str,
    peer: SocketAddr,
    request: Request,
) -> Result<Response, Problem> {
    let claims = proxy.authenticate(request.headers()).await?;
    let subject = match (&claims, route.auth) {
        (None, AuthMode::Required) => {
            return Err(Problem::unauthorized(
                "token_missing",
                "this route needs an access token",
            ));
        }
        (Some(_), AuthMode::Public) | (None, _) => Subject::anonymous(),
        (Some(claims), _) => Subject::user(claims.sub.clone(), claims.role, claims.perms.clone()),
    };
    if let Some(permission) = route.permission
        && !subject.perms.iter().any(|p| p == permission)
    {
        return Err(Problem::forbidden(format!(
            "this route needs the {permission} permission"
        )));
    }

    let base = proxy
        .upstream_base(route.upstream)
        .ok_or_else(|| Problem::unavailable("upstream_unavailable", "no instance of this service is configured"))?;
    let (mut parts, body) = request.into_parts();
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let uri: Uri = format!("{base}{raw_path}{query}")
        .parse()
        .map_err(|_| Problem::not_found("no such route"))?;

    let client_ip = parts
        .headers
        .get(REAL_IP)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer.ip());
    strip_hop_by_hop(&mut parts.headers);
    for name in [header::AUTHORIZATION, header::HOST, CLIENT_IP] {
        parts.headers.remove(name);
    }
    parts.headers.remove(REAL_IP);
    let token = proxy.0.minter.mint(route.upstream, &subject);
    parts.headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("JWTs are header-safe"),
    );
    parts.headers.insert(
        CLIENT_IP,
        HeaderValue::from_str(&client_ip.to_string()).expect("an IP is header-safe"),
    );
    if let Some(id) = current_request_id() {
        parts.headers.insert(REQUEST_ID_HEADER, id.header_value());
    }
    parts.uri = uri;
    let upstream_request = axum::http::Request::from_parts(parts, body);

    let timeout = proxy.0.timeout_override.unwrap_or(route.timeout);
    let response = match tokio::time::timeout(timeout, proxy.0.client.request(upstream_request)).await {
        Err(_) => {
            tracing::warn!(upstream = route.upstream, ?timeout, "upstream timed out");
            return Err(Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                "the service did not answer in time",
            ));
        }
        Ok(Err(error)) if error.is_connect() => {
            tracing::warn!(upstream = route.upstream, %error, "upstream unreachable");
            return Err(Problem::unavailable("upstream_unavailable", "the service is unavailable").with_retry_after(1));
        }
        Ok(Err(error)) => {
            tracing::warn!(upstream = route.upstream, %error, "upstream failed");
            return Err(Problem::new(
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                "the service failed to answer",
            ));
        }
        Ok(Ok(response)) => response,
    };
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Body::new(body)))
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
