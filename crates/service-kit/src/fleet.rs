//! The fleet as data: every service's name, default port and what it owns. The kit, the
//! bootstrap, the gateway's defaults, the testkit and `cargo xtask up` all read this one table.

/// One service of the fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: &'static str,
    /// Default dev port (DESIGN §3).
    pub port: u16,
    /// The Postgres schema it owns, if it owns one.
    pub schema: Option<&'static str>,
}

impl ServiceSpec {
    /// The Postgres login role of a data-owning service.
    pub fn db_role(&self) -> Option<String> {
        self.schema.map(|_| format!("shopfleet_{}", self.name))
    }

    /// The schema this deployment gives the service: `DATABASE_SCHEMA_<NAME>` when set (Supabase
    /// owns a schema called `auth`, so auth needs another one there), else the default.
    pub fn schema_name(&self) -> Option<String> {
        let default = self.schema?;
        let chosen = std::env::var(settings::bootstrap::DATABASE_SCHEMA_OF.for_service(self.name))
            .ok()
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        Some(chosen.unwrap_or_else(|| default.to_owned()))
    }

    /// The environment variable naming this service's base URL(s) for its callers.
    pub fn url_var(&self) -> String {
        settings::shared::SERVICE_URL.for_service(self.name)
    }
}

/// The services' names: code names a service only through these (the callers a route allows,
/// the upstream of a gateway route, the audience of an internal token).
pub const GATEWAY: &str = "gateway";
pub const AUTH: &str = "auth";
pub const USER: &str = "user";
pub const PRODUCT: &str = "product";
pub const INVENTORY: &str = "inventory";
pub const CART: &str = "cart";
pub const ORDER: &str = "order";
pub const PAYMENT: &str = "payment";
pub const ADMIN: &str = "admin";
pub const NOTIFICATION: &str = "notification";
pub const SEARCH: &str = "search";
pub const ANALYTICS: &str = "analytics";
pub const CMS: &str = "cms";
pub const MEDIA: &str = "media";

/// All fourteen services.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec { name: GATEWAY, port: 8000, schema: None },
    ServiceSpec { name: AUTH, port: 8001, schema: Some("auth") },
    ServiceSpec { name: USER, port: 8002, schema: Some("users") },
    ServiceSpec { name: PRODUCT, port: 8003, schema: Some("catalog") },
    ServiceSpec { name: INVENTORY, port: 8004, schema: Some("inventory") },
    ServiceSpec { name: CART, port: 8005, schema: None },
    ServiceSpec { name: ORDER, port: 8006, schema: Some("orders") },
    ServiceSpec { name: PAYMENT, port: 8007, schema: Some("payments") },
    ServiceSpec { name: ADMIN, port: 8008, schema: Some("admin") },
    ServiceSpec { name: NOTIFICATION, port: 8009, schema: Some("notifications") },
    ServiceSpec { name: SEARCH, port: 8010, schema: None },
    ServiceSpec { name: ANALYTICS, port: 8011, schema: Some("analytics") },
    ServiceSpec { name: CMS, port: 8012, schema: Some("cms") },
    ServiceSpec { name: MEDIA, port: 8013, schema: Some("media") },
];

/// Which services may call each service at all: its zero-trust guard admits internal tokens
/// from these only (single routes narrow it further with `internal_token::only_from`). The
/// gateway is called by NGINX alone, and calls everything. Kubernetes' NetworkPolicies are
/// generated from this same table (`cargo xtask deploy`), so the network allows exactly the calls
/// the guards allow.
pub const CALLERS: &[(&str, &[&str])] = &[
    (GATEWAY, &[]),
    (AUTH, &[GATEWAY, NOTIFICATION, ADMIN]),
    (USER, &[GATEWAY, ORDER, NOTIFICATION]),
    (PRODUCT, &[GATEWAY, CART, ORDER, SEARCH, USER]),
    (INVENTORY, &[GATEWAY, ORDER]),
    (CART, &[GATEWAY, ORDER]),
    (ORDER, &[GATEWAY, PAYMENT, CART, ADMIN, USER]),
    (PAYMENT, &[GATEWAY, PAYMENT, ADMIN]),
    (ADMIN, &[GATEWAY]),
    (NOTIFICATION, &[GATEWAY]),
    (SEARCH, &[GATEWAY]),
    (ANALYTICS, &[GATEWAY, ADMIN]),
    (CMS, &[GATEWAY]),
    (MEDIA, &[GATEWAY, CMS]),
];

/// The services that may call `service` (see [`CALLERS`]).
pub fn callers(service: &str) -> &'static [&'static str] {
    CALLERS.iter().find(|(name, _)| *name == service).map_or(&[], |(_, callers)| callers)
}

/// The services `service` calls (the other direction of [`CALLERS`]).
pub fn callees(service: &str) -> Vec<&'static str> {
    CALLERS.iter().filter(|(_, callers)| callers.contains(&service)).map(|(name, _)| *name).collect()
}

/// The spec of a service by name.
pub fn spec(name: &str) -> Option<&'static ServiceSpec> {
    SERVICES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_its_callers_and_the_gateway_calls_every_other() {
        for spec in SERVICES {
            assert!(CALLERS.iter().any(|(name, _)| *name == spec.name), "{} has no callers entry", spec.name);
        }
        assert_eq!(CALLERS.len(), SERVICES.len());
        let called: Vec<&str> = callees(GATEWAY);
        assert_eq!(called.len(), SERVICES.len() - 1);
        assert_eq!(callees(CMS), vec![MEDIA]);
    }

    #[test]
    fn names_ports_schemas_and_roles_are_unique() {
        let mut names: Vec<_> = SERVICES.iter().map(|s| s.name).collect();
        names.sort();
        let mut ports: Vec<_> = SERVICES.iter().map(|s| s.port).collect();
        let mut schemas: Vec<_> = SERVICES.iter().filter_map(|s| s.schema).collect();
        names.dedup();
        ports.sort();
        ports.dedup();
        schemas.sort();
        schemas.dedup();
        assert_eq!(SERVICES.len(), 14);
        assert_eq!(names.len(), 14);
        assert_eq!(ports.len(), 14);
        assert_eq!(schemas.len(), 11);
        assert_eq!(spec("product").unwrap().db_role().as_deref(), Some("shopfleet_product"));
        assert_eq!(spec("gateway").unwrap().db_role(), None);
    }

    #[test]
    fn the_settings_declare_each_service_of_the_fleet_and_the_bootstrap() {
        let declared: Vec<&str> = settings::service::OWN.iter().map(|(name, _)| *name).collect();
        let mut expected: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
        expected.push(settings::bootstrap::NAME);
        assert_eq!(declared, expected);
    }
}
