//! The first stage of forwarding: admit the request. Authenticate the caller (a present but
//! invalid token is a 401 on every route), check revocation and the rate limit in one Redis
//! round trip, check the route's permission and the declared body size. What comes out is on
//! whose behalf the call is made and the rate decision to report.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use internal_token::Subject;

use super::Proxy;
use crate::error::{ApiError, Result};
use crate::limits::{Decision, TokenRef, Verdict};
use crate::route_table::{AuthMode, RateClass, Route};

/// A request the gateway lets through.
pub(crate) struct Admitted {
    /// On whose behalf the upstream is called.
    pub subject: Subject,
    /// The rate decision, reported in the RateLimit headers.
    pub decision: Decision,
    /// The body length the client declared, if any.
    pub declared_length: Option<u64>,
}

pub(crate) async fn admit(proxy: &Proxy, route: &Route, headers: &HeaderMap, ip: IpAddr) -> Result<Admitted> {
    // A public route (a provider's webhook) is called by someone who is not our user: whatever
    // its Authorization says is the provider's business (review L10), passed on, not verified.
    let claims = if route.auth == AuthMode::Public { None } else { proxy.authenticate(headers).await? };
    if claims.is_none() && route.auth == AuthMode::Required {
        return Err(ApiError::TokenMissing);
    }

    // Revocation and rate limit in one round trip. Credentials routes are limited per IP (for a
    // signed-in caller, per IP under the user's name: its keys share the user's hash tag); the
    // others per user when signed in, per IP otherwise.
    let key = match (&claims, route.rate_class) {
        (Some(claims), class) if class != RateClass::Credentials => format!("user:{}", claims.sub),
        // An IPv6 client has a whole /64: it is one client (review M3).
        _ => format!("ip:{}", service_kit::net::client_network(ip)),
    };
    let token = claims.as_ref().map(|c| TokenRef {
        jti: &c.jti,
        sub: &c.sub,
        issued_ms: c.issued_at_ms(),
        sid: c.sid.as_deref(),
    });
    // Revocation fails closed for staff routes and for any staff token, on every route (review
    // L4): a logged-out administrator's token must not work while Redis is away.
    let staff_token = claims.as_ref().is_some_and(|c| c.role != auth_jwt::Role::Customer || !c.perms.is_empty());
    let fail_closed = route.rate_class == RateClass::Admin || route.permission.is_some() || staff_token;
    let decision = match proxy.gate().check(route.rate_class, &key, token, fail_closed).await {
        Verdict::Revoked => return Err(ApiError::TokenRevoked),
        Verdict::RevocationUnknown => return Err(ApiError::RevocationUnavailable),
        Verdict::Limited(decision) => return Err(ApiError::RateLimited(decision)),
        Verdict::Allowed(decision) => decision,
    };

    // A public route's caller is always anonymous: its token was never read.
    let subject = claims.as_ref().map_or_else(Subject::anonymous, Subject::from_access);
    if let Some(permission) = route.permission
        && !subject.perms.iter().any(|p| p == permission.as_str())
    {
        return Err(ApiError::MissingPermission(permission));
    }
    let declared_length =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > route.max_body) {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(Admitted { subject, decision, declared_length })
}
