//! The second stage of forwarding: header hygiene. Drops what a client must not be able to say
//! about itself or about the connection, then sets what the upstream may believe: the internal
//! token, the client IP and the request id.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use observability::{REQUEST_ID_HEADER, current_request_id};
use service_kit::headers::{CLIENT_IP, PROVIDER_AUTHORIZATION, REAL_IP};

/// Makes `headers` fit for the upstream: scrubbed, with `internal_token` as the bearer and the
/// client IP the gateway determined. On a public route the caller's own `Authorization` (a
/// provider's webhook credentials) travels on as `X-Provider-Authorization`.
pub(crate) fn prepare(headers: &mut HeaderMap, public: bool, forward_cookies: bool, internal_token: &str, ip: IpAddr) {
    let provider_authorization = if public { headers.get(header::AUTHORIZATION).cloned() } else { None };
    scrub(headers, forward_cookies);
    if let Some(value) = provider_authorization {
        headers.insert(PROVIDER_AUTHORIZATION, value);
    }
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {internal_token}")).expect("JWTs are header-safe"),
    );
    headers.insert(CLIENT_IP, HeaderValue::from_str(&ip.to_string()).expect("an IP is header-safe"));
    if let Some(id) = current_request_id() {
        headers.insert(REQUEST_ID_HEADER, id.header_value());
    }
}

/// Drops the caller's Authorization (replaced by an internal token), any internal-token or
/// X-User-* header, forwarding headers NGINX did not set, and hop-by-hop headers. Cookies reach
/// only routes that forward them (auth's HttpOnly refresh cookie); no other service reads any.
fn scrub(headers: &mut HeaderMap, keep_cookies: bool) {
    strip_hop_by_hop(headers);
    let spoofable: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            let text = name.as_str();
            text.starts_with("x-user-")
                || text.starts_with("x-internal")
                || (text.starts_with("x-forwarded-") && text != "x-forwarded-for" && text != "x-forwarded-proto")
                || **name == CLIENT_IP
                || **name == REAL_IP
                || **name == PROVIDER_AUTHORIZATION
                || matches!(text, "forwarded" | "authorization" | "host")
                || (text == "cookie" && !keep_cookies)
        })
        .cloned()
        .collect();
    for name in spoofable {
        headers.remove(name);
    }
}

/// Removes the headers that describe one connection, not the message (RFC 9110 §7.6.1).
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
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
            ("x-real-ip", "1.2.3.4"),
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
        scrub(&mut headers, false);
        scrub(&mut for_auth, true);
        assert!(for_auth.contains_key("cookie"), "a route that forwards cookies keeps them");
        let left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(headers.contains_key("x-forwarded-for"), "set by NGINX, kept");
        assert!(headers.contains_key("accept"));
    }

    #[test]
    fn the_upstream_gets_the_internal_token_and_the_gateways_client_ip() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer user-token"));
        headers.insert(CLIENT_IP, HeaderValue::from_static("6.6.6.6"));
        headers.insert(PROVIDER_AUTHORIZATION, HeaderValue::from_static("Basic forged"));
        prepare(&mut headers, false, false, "internal.jwt.token", "203.0.113.9".parse().unwrap());
        assert_eq!(headers[header::AUTHORIZATION], "Bearer internal.jwt.token");
        assert_eq!(headers[CLIENT_IP], "203.0.113.9");
        assert!(!headers.contains_key(PROVIDER_AUTHORIZATION), "a client cannot send it itself");
    }

    #[test]
    fn on_a_public_route_the_providers_credentials_travel_beside_the_internal_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic cHJvdmlkZXI6c2VjcmV0"));
        prepare(&mut headers, true, false, "internal.jwt.token", "203.0.113.9".parse().unwrap());
        assert_eq!(headers[header::AUTHORIZATION], "Bearer internal.jwt.token");
        assert_eq!(headers[PROVIDER_AUTHORIZATION], "Basic cHJvdmlkZXI6c2VjcmV0");
    }
}
