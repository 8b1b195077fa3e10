//! The route table, as data: which public prefix goes to which service, how it is
//! authenticated, what permission it needs, its rate-limit class and its timeout.

use std::time::Duration;

use service_kit::Permission;

/// How a route treats the caller's access token. In every mode a token that is present but
/// invalid is a 401: it never silently downgrades to anonymous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Anyone; the upstream is called as anonymous (webhooks authenticate by signature).
    Public,
    /// Anyone; a valid token makes the call on the user's behalf.
    Optional,
    /// A valid access token is required.
    Required,
}

/// Which rate-limit bucket a route draws from (enforced with the identity-and-edge issue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateClass {
    /// Login, register, password reset: strict, per IP.
    Credentials,
    /// Catalog and content reads: generous.
    Read,
    /// Carts, orders, payments, uploads.
    Write,
    /// Provider webhooks: by provider, not by IP.
    Webhook,
    /// Analytics tracking beacons.
    Tracking,
    /// Admin dashboards.
    Admin,
}

/// One entry of the table.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// Public path prefix after `/api/v1`, matched segment by segment.
    pub prefix: &'static str,
    /// The service that serves it.
    pub upstream: &'static str,
    pub auth: AuthMode,
    /// A permission the token must carry, checked here and again by the service.
    pub permission: Option<Permission>,
    pub rate_class: RateClass,
    pub timeout: Duration,
    /// Largest request body accepted (413 beyond).
    pub max_body: u64,
}

const fn route(
    prefix: &'static str,
    upstream: &'static str,
    auth: AuthMode,
    permission: Option<Permission>,
    rate_class: RateClass,
    timeout_secs: u64,
) -> Route {
    let max_body = match rate_class {
        // Provider webhooks can be larger; everything else the API takes is small JSON (media
        // goes to S3 through presigned URLs).
        RateClass::Webhook => 512 * 1024,
        _ => 64 * 1024,
    };
    Route { prefix, upstream, auth, permission, rate_class, timeout: Duration::from_secs(timeout_secs), max_body }
}

use AuthMode::*;
use RateClass::*;

/// The public API. More specific prefixes win over shorter ones.
pub const ROUTES: &[Route] = &[
    route("/auth", "auth", Optional, None, Credentials, 10),
    route("/users", "user", Required, None, Write, 5),
    route("/products", "product", Optional, None, Read, 5),
    route("/categories", "product", Optional, None, Read, 5),
    route("/reviews", "product", Optional, None, Write, 5),
    route("/stock", "inventory", Optional, None, Read, 5),
    route("/carts", "cart", Optional, None, Write, 5),
    route("/orders", "order", Required, None, Write, 15),
    route("/payments/webhooks", "payment", Public, None, Webhook, 15),
    route("/payments", "payment", Required, None, Write, 15),
    route("/admin", "admin", Required, Some(Permission::AdminAccess), Admin, 30),
    route("/notifications", "notification", Required, Some(Permission::NotificationsRead), Admin, 10),
    route("/search", "search", Optional, None, Read, 5),
    route("/analytics", "analytics", Optional, None, Tracking, 5),
    route("/content", "cms", Optional, None, Read, 5),
    route("/media", "media", Optional, None, Write, 60),
];

/// The entry for decoded path `segments` (after `/api/v1`): the longest matching prefix.
pub fn match_route(segments: &[String]) -> Option<&'static Route> {
    ROUTES
        .iter()
        .filter(|route| {
            let prefix: Vec<&str> = route.prefix.trim_start_matches('/').split('/').collect();
            prefix.len() <= segments.len() && prefix.iter().zip(segments).all(|(p, s)| p == s)
        })
        .max_by_key(|route| route.prefix.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.trim_start_matches('/').split('/').map(str::to_owned).collect()
    }

    #[test]
    fn the_longest_prefix_wins() {
        assert_eq!(match_route(&segs("/payments/webhooks/stripe")).unwrap().auth, AuthMode::Public);
        assert_eq!(match_route(&segs("/payments/123")).unwrap().auth, AuthMode::Required);
    }

    #[test]
    fn prefixes_match_whole_segments_and_case_exactly() {
        assert_eq!(match_route(&segs("/products")).unwrap().upstream, "product");
        assert!(match_route(&segs("/productsX")).is_none());
        assert!(match_route(&segs("/Products")).is_none());
        assert!(match_route(&segs("/internal/keys")).is_none());
    }

    #[test]
    fn every_upstream_is_a_fleet_service_and_no_route_reaches_the_gateway_itself() {
        for route in ROUTES {
            let spec = service_kit::fleet::spec(route.upstream).expect("a fleet service");
            assert_ne!(spec.name, "gateway");
            assert!(route.timeout >= Duration::from_secs(1));
        }
    }
}
