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
        let key = format!("DATABASE_SCHEMA_{}", self.name.to_ascii_uppercase());
        let chosen = std::env::var(key)
            .ok()
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        Some(chosen.unwrap_or_else(|| default.to_owned()))
    }

    /// The environment variable naming this service's base URL(s) for its callers.
    pub fn url_var(&self) -> String {
        format!("{}_URL", self.name.to_ascii_uppercase())
    }
}

/// All fourteen services.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec { name: "gateway", port: 8000, schema: None },
    ServiceSpec { name: "auth", port: 8001, schema: Some("auth") },
    ServiceSpec { name: "user", port: 8002, schema: Some("users") },
    ServiceSpec { name: "product", port: 8003, schema: Some("catalog") },
    ServiceSpec { name: "inventory", port: 8004, schema: Some("inventory") },
    ServiceSpec { name: "cart", port: 8005, schema: None },
    ServiceSpec { name: "order", port: 8006, schema: Some("orders") },
    ServiceSpec { name: "payment", port: 8007, schema: Some("payments") },
    ServiceSpec { name: "admin", port: 8008, schema: None },
    ServiceSpec { name: "notification", port: 8009, schema: Some("notifications") },
    ServiceSpec { name: "search", port: 8010, schema: None },
    ServiceSpec { name: "analytics", port: 8011, schema: Some("analytics") },
    ServiceSpec { name: "cms", port: 8012, schema: Some("cms") },
    ServiceSpec { name: "media", port: 8013, schema: Some("media") },
];

/// The spec of a service by name.
pub fn spec(name: &str) -> Option<&'static ServiceSpec> {
    SERVICES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ports_schemas_and_roles_are_unique() {
        let mut names: Vec<_> = SERVICES.iter().map(|s| s.name).collect();
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
        assert_eq!(schemas.len(), 10);
        assert_eq!(spec("product").unwrap().db_role().as_deref(), Some("shopfleet_product"));
        assert_eq!(spec("gateway").unwrap().db_role(), None);
    }
}
