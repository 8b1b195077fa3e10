//! The route table, as data: which public requests (a method set and a path pattern) go to
//! which service, how the caller is authenticated, what permission the route needs, its rate
//! class, timeout, body limit and whether cookies travel. The proxy reads policy only from here.

use std::time::Duration;

use axum::http::Method;
use service_kit::Permission;
use service_kit::fleet::{ADMIN, SEARCH, USER};
use service_kit::fleet::{ANALYTICS, AUTH, CART, CMS, INVENTORY, MEDIA, NOTIFICATION, ORDER, PAYMENT, PRODUCT};

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

/// Which rate-limit bucket a route draws from.
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
    /// Staff dashboards and staff writes.
    Admin,
}

/// The methods an entry matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Methods {
    /// Every method.
    Any,
    /// GET and HEAD.
    Reads,
    /// POST, PUT, PATCH and DELETE.
    Writes,
    /// Exactly these.
    Only(&'static [&'static str]),
}

impl Methods {
    fn matches(self, method: &Method) -> bool {
        match self {
            Methods::Any => true,
            Methods::Reads => matches!(*method, Method::GET | Method::HEAD),
            Methods::Writes => matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE),
            Methods::Only(names) => names.contains(&method.as_str()),
        }
    }

    /// The methods listed, for the route-table drift test and the spec (`Any` lists the five).
    pub fn list(self) -> Vec<&'static str> {
        match self {
            Methods::Any => vec!["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            Methods::Reads => vec!["GET", "HEAD"],
            Methods::Writes => vec!["POST", "PUT", "PATCH", "DELETE"],
            Methods::Only(names) => names.to_vec(),
        }
    }
}

/// One entry of the table.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub methods: Methods,
    /// Public path after `/api/v1`, matched segment by segment: a literal matches itself,
    /// `{name}` any one segment, and a final `**` any number of further segments (none included).
    pub pattern: &'static str,
    /// The service that serves it.
    pub upstream: &'static str,
    pub auth: AuthMode,
    /// A permission the token must carry, checked here and again by the service.
    pub permission: Option<Permission>,
    pub rate_class: RateClass,
    pub timeout: Duration,
    /// Largest request body accepted (413 beyond).
    pub max_body: u64,
    /// Whether the caller's cookies reach the upstream (only auth's HttpOnly refresh cookie).
    pub forward_cookies: bool,
}

/// Everything the API takes is small JSON (media goes to S3 through presigned URLs).
const SMALL_BODY: u64 = 64 * 1024;
/// Provider webhooks can be larger.
const WEBHOOK_BODY: u64 = 512 * 1024;

impl Route {
    const fn new(methods: Methods, pattern: &'static str, upstream: &'static str) -> Self {
        Route {
            methods,
            pattern,
            upstream,
            auth: AuthMode::Optional,
            permission: None,
            rate_class: RateClass::Read,
            timeout: Duration::from_secs(5),
            max_body: SMALL_BODY,
            forward_cookies: false,
        }
    }

    const fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// Staff only: a token carrying `permission` (rate class `Admin`).
    const fn staff(mut self, permission: Permission) -> Self {
        self.auth = AuthMode::Required;
        self.permission = Some(permission);
        self.rate_class = RateClass::Admin;
        self
    }

    const fn class(mut self, rate_class: RateClass) -> Self {
        self.rate_class = rate_class;
        self
    }

    const fn timeout_secs(mut self, secs: u64) -> Self {
        self.timeout = Duration::from_secs(secs);
        self
    }

    const fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    const fn cookies(mut self) -> Self {
        self.forward_cookies = true;
        self
    }

    /// Whether this entry takes `method` on decoded path `segments`.
    pub fn matches(&self, method: &Method, segments: &[String]) -> bool {
        self.methods.matches(method) && pattern_matches(self.pattern, segments)
    }

    /// How specific the entry is: more literal segments first, then a fixed length over `**`,
    /// then a method set over every method. The most specific match wins.
    fn specificity(&self) -> (usize, bool, bool) {
        let segments: Vec<&str> = pattern_segments(self.pattern).collect();
        let literals = segments.iter().filter(|s| !s.starts_with('{') && **s != "**").count();
        (literals, !segments.contains(&"**"), self.methods != Methods::Any)
    }
}

fn pattern_segments(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.trim_start_matches('/').split('/').filter(|s| !s.is_empty())
}

fn pattern_matches(pattern: &str, segments: &[String]) -> bool {
    let mut rest = segments.iter();
    for part in pattern_segments(pattern) {
        if part == "**" {
            return true;
        }
        match rest.next() {
            Some(segment) if part.starts_with('{') || part == segment => {}
            _ => return false,
        }
    }
    rest.next().is_none()
}

use AuthMode::*;
use Methods::*;
use RateClass::*;

/// The public API. The most specific matching entry wins (see [`Route::specificity`]).
pub const ROUTES: &[Route] = &[
    // Only what takes a password or a one-time token is in the strict per-IP class; refresh,
    // sessions, logout and the JWKS are ordinary traffic (review L12: shared addresses).
    Route::new(Any, "/auth/**", AUTH).class(Write).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/login", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/register", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/admin/login", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/verify-email", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/password-reset", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/password-reset/confirm", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/staff/accept", AUTH).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/email/confirm", AUTH).class(Credentials).timeout_secs(10).cookies(),
    // A signed-in account's own changes, each behind its current password.
    Route::new(Only(&["POST"]), "/auth/password", AUTH).auth(Required).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/email", AUTH).auth(Required).class(Credentials).timeout_secs(10).cookies(),
    Route::new(Only(&["POST"]), "/auth/account/delete", AUTH)
        .auth(Required)
        .class(Credentials)
        .timeout_secs(10)
        .cookies(),
    Route::new(Any, "/users/**", USER).auth(Required).class(Write),
    Route::new(Reads, "/products/**", PRODUCT),
    Route::new(Writes, "/products/**", PRODUCT).staff(Permission::CatalogWrite),
    Route::new(Only(&["POST"]), "/products/import", PRODUCT)
        .staff(Permission::CatalogWrite)
        .max_body(4 * 1024 * 1024)
        .timeout_secs(60),
    Route::new(Reads, "/products/export", PRODUCT).staff(Permission::CatalogWrite).timeout_secs(30),
    Route::new(Reads, "/categories/**", PRODUCT),
    Route::new(Writes, "/categories/**", PRODUCT).staff(Permission::CatalogWrite),
    Route::new(Only(&["POST"]), "/products/{id}/reviews", PRODUCT).auth(Required).class(Write),
    Route::new(Only(&["POST"]), "/reviews/{id}/helpful", PRODUCT).auth(Required).class(Write),
    Route::new(Any, "/reviews/**", PRODUCT).staff(Permission::ReviewsModerate),
    Route::new(Reads, "/stock/**", INVENTORY),
    Route::new(Writes, "/stock/**", INVENTORY).staff(Permission::InventoryWrite),
    Route::new(Reads, "/stock/{sku}/movements", INVENTORY).staff(Permission::InventoryWrite),
    Route::new(Any, "/carts/**", CART).class(Write),
    Route::new(Any, "/orders/**", ORDER).auth(Required).class(Write).timeout_secs(15),
    Route::new(Reads, "/orders/all", ORDER).staff(Permission::OrdersRead).timeout_secs(15),
    Route::new(Only(&["POST"]), "/orders/{id}/ship", ORDER).staff(Permission::OrdersWrite),
    Route::new(Only(&["POST"]), "/orders/{id}/deliver", ORDER).staff(Permission::OrdersWrite),
    Route::new(Only(&["POST"]), "/orders/{id}/fulfillments", ORDER).staff(Permission::OrdersWrite),
    Route::new(Only(&["POST"]), "/orders/{id}/fulfillments/{fulfillment_id}/deliver", ORDER)
        .staff(Permission::OrdersWrite),
    Route::new(Any, "/discounts/**", ORDER).staff(Permission::PromotionsWrite),
    Route::new(Any, "/shipping/**", ORDER).staff(Permission::ShippingWrite),
    Route::new(Reads, "/shipping/countries", ORDER),
    Route::new(Any, "/taxes/**", ORDER).staff(Permission::TaxesWrite),
    Route::new(Any, "/payments/webhooks/**", PAYMENT)
        .auth(Public)
        .class(Webhook)
        .timeout_secs(15)
        .max_body(WEBHOOK_BODY),
    Route::new(Any, "/payments/**", PAYMENT).auth(Required).class(Write).timeout_secs(15),
    Route::new(Only(&["POST"]), "/payments/{id}/refunds", PAYMENT).staff(Permission::PaymentsRefund).timeout_secs(15),
    Route::new(Any, "/admin/**", ADMIN).staff(Permission::AdminAccess).timeout_secs(30),
    // The back office's parts, each behind the permission it reads or writes (the admin service
    // and the owners behind it check again, on the staff member's own identity).
    Route::new(Reads, "/admin/dashboard/**", ADMIN).staff(Permission::AnalyticsRead).timeout_secs(30),
    Route::new(Reads, "/admin/audit-log", ADMIN).staff(Permission::AuditRead).timeout_secs(30),
    Route::new(Any, "/admin/staff", ADMIN).staff(Permission::StaffWrite).timeout_secs(30),
    Route::new(Reads, "/admin/customers/**", ADMIN).staff(Permission::CustomersRead).timeout_secs(30),
    Route::new(Writes, "/admin/customers/**", ADMIN).staff(Permission::CustomersWrite).timeout_secs(30),
    Route::new(Reads, "/admin/orders/**", ADMIN).staff(Permission::OrdersRead).timeout_secs(30),
    Route::new(Any, "/notifications/**", NOTIFICATION).staff(Permission::NotificationsRead).timeout_secs(10),
    // A shopper verifies their own phone number; the confirmation takes a one-time code.
    Route::new(Any, "/notifications/phone-verification", NOTIFICATION).auth(Required).class(Write).timeout_secs(10),
    Route::new(Only(&["POST"]), "/notifications/phone-verification/confirm", NOTIFICATION)
        .auth(Required)
        .class(Credentials)
        .timeout_secs(10),
    Route::new(Reads, "/search/**", SEARCH),
    Route::new(Only(&["POST"]), "/analytics/events", ANALYTICS).class(Tracking),
    Route::new(Any, "/analytics/**", ANALYTICS).staff(Permission::AnalyticsRead),
    Route::new(Reads, "/content/**", CMS),
    Route::new(Writes, "/content/**", CMS).staff(Permission::ContentWrite),
    // Drafts, history and the revalidation record are staff reads; a preview link's token is
    // the only credential its POST needs.
    Route::new(Reads, "/content/pages", CMS).staff(Permission::ContentWrite),
    Route::new(Reads, "/content/pages/{slug}/draft", CMS).staff(Permission::ContentWrite),
    Route::new(Reads, "/content/pages/{slug}/versions", CMS).staff(Permission::ContentWrite),
    Route::new(Reads, "/content/revalidations", CMS).staff(Permission::ContentWrite),
    Route::new(Only(&["POST"]), "/content/preview", CMS).class(Write),
    Route::new(Reads, "/media/**", MEDIA),
    Route::new(Writes, "/media/**", MEDIA).staff(Permission::MediaWrite).timeout_secs(60),
];

/// The entry for `method` on decoded path `segments` (after `/api/v1`): the most specific match.
pub fn match_route(method: &Method, segments: &[String]) -> Option<&'static Route> {
    ROUTES.iter().filter(|route| route.matches(method, segments)).max_by_key(|route| route.specificity())
}

/// Whether any entry serves this path with some method (a known path with the wrong method is
/// still routed to its service, which answers 405; an unknown path is the gateway's 404).
pub fn match_any_method(segments: &[String]) -> Option<&'static Route> {
    ROUTES.iter().filter(|route| pattern_matches(route.pattern, segments)).max_by_key(|route| route.specificity())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.trim_start_matches('/').split('/').map(str::to_owned).collect()
    }

    fn route(method: Method, path: &str) -> &'static Route {
        match_route(&method, &segs(path)).unwrap_or_else(|| panic!("{method} {path} routes"))
    }

    #[test]
    fn the_most_specific_entry_wins() {
        assert_eq!(route(Method::POST, "/payments/webhooks/stripe").auth, AuthMode::Public);
        assert_eq!(route(Method::GET, "/payments/123").auth, AuthMode::Required);
        assert_eq!(route(Method::POST, "/orders/42/ship").permission, Some(Permission::OrdersWrite));
        assert_eq!(route(Method::GET, "/orders/42").permission, None);
        assert_eq!(route(Method::POST, "/analytics/events").rate_class, RateClass::Tracking);
        assert_eq!(route(Method::GET, "/analytics/sales").permission, Some(Permission::AnalyticsRead));
    }

    #[test]
    fn only_what_takes_a_secret_is_in_the_credentials_class() {
        assert_eq!(route(Method::POST, "/auth/login").rate_class, RateClass::Credentials);
        assert_eq!(route(Method::POST, "/auth/password-reset/confirm").rate_class, RateClass::Credentials);
        assert_eq!(route(Method::POST, "/auth/refresh").rate_class, RateClass::Write);
        assert_eq!(route(Method::GET, "/auth/.well-known/jwks.json").rate_class, RateClass::Write);
    }

    #[test]
    fn a_staff_write_carries_its_permission_while_the_read_stays_public() {
        let read = route(Method::GET, "/stock/SKU-1");
        assert_eq!((read.auth, read.permission), (AuthMode::Optional, None));
        let write = route(Method::PUT, "/stock/SKU-1");
        assert_eq!((write.auth, write.permission), (AuthMode::Required, Some(Permission::InventoryWrite)));
    }

    #[test]
    fn patterns_match_whole_segments_and_case_exactly() {
        assert_eq!(route(Method::GET, "/products").upstream, PRODUCT);
        assert_eq!(route(Method::GET, "/products/some-slug").upstream, PRODUCT);
        assert!(match_route(&Method::GET, &segs("/productsX")).is_none());
        assert!(match_route(&Method::GET, &segs("/Products")).is_none());
        assert!(match_route(&Method::GET, &segs("/internal/keys")).is_none());
        assert!(!pattern_matches("/orders/{id}/ship", &segs("/orders/42/ship/now")));
        assert!(!pattern_matches("/orders/{id}/ship", &segs("/orders/42")));
    }

    #[test]
    fn only_auth_gets_cookies_and_only_webhooks_and_staff_imports_take_large_bodies() {
        for entry in ROUTES {
            assert_eq!(entry.forward_cookies, entry.upstream == AUTH, "{}", entry.pattern);
            let may_be_large = entry.rate_class == RateClass::Webhook || entry.pattern.ends_with("/import");
            assert_eq!(entry.max_body > SMALL_BODY, may_be_large, "{}", entry.pattern);
            if entry.pattern.ends_with("/import") {
                assert!(entry.permission.is_some(), "an import is staff only");
            }
        }
    }

    #[test]
    fn every_upstream_is_a_fleet_service_and_no_route_reaches_the_gateway_itself() {
        for entry in ROUTES {
            let spec = service_kit::fleet::spec(entry.upstream).expect("a fleet service");
            assert_ne!(spec.name, service_kit::fleet::GATEWAY);
            assert!(entry.timeout >= Duration::from_secs(1));
            assert!(entry.permission.is_none() || entry.auth == AuthMode::Required, "{}", entry.pattern);
        }
    }
}
