//! The registry of permissions: one `<domain>:<verb>` name each, with what it allows. Access
//! tokens carry them as strings; code names them only through [`Permission`]. The `admin` role
//! holds every one; staff roles hold subsets and always `admin:access`.

/// Declares the permissions: `Variant = "domain:verb" "what it allows"`.
macro_rules! permissions {
    ($($variant:ident = $name:literal $meaning:literal,)*) => {
        /// A permission a staff token may carry.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Permission {
            $(#[doc = $meaning] $variant,)*
        }

        impl Permission {
            /// Every permission, in registry order: what the `admin` role holds.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The name carried in a token's `perms` claim.
            pub const fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            pub const fn meaning(self) -> &'static str {
                match self { $(Permission::$variant => $meaning,)* }
            }
        }
    };
}

permissions! {
    AdminAccess = "admin:access" "Open the back office at all (every staff role holds it).",
    CatalogWrite = "catalog:write" "Create, change and archive products, variants and categories.",
    ReviewsModerate = "reviews:moderate" "Approve or reject product reviews.",
    InventoryWrite = "inventory:write" "Set and adjust stock levels.",
    OrdersRead = "orders:read" "See every shopper's orders.",
    OrdersWrite = "orders:write" "Ship, deliver and cancel orders.",
    PaymentsRefund = "payments:refund" "Refund payments.",
    PromotionsWrite = "promotions:write" "Create and change discount codes.",
    MediaWrite = "media:write" "Upload and delete media.",
    ContentWrite = "content:write" "Edit and publish content pages and menus.",
    AnalyticsRead = "analytics:read" "Read business metrics and dashboards.",
    CustomersRead = "customers:read" "See customer accounts.",
    CustomersWrite = "customers:write" "Change or block customer accounts.",
    StaffWrite = "staff:write" "Manage staff accounts and their roles.",
    AuditRead = "audit:read" "Read the audit log.",
    NotificationsRead = "notifications:read" "See the record of messages sent.",
    KeysRotate = "keys:rotate" "Rotate the access-token signing key.",
}

impl Permission {
    /// The permission with this name, if the registry holds it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == name)
    }

    /// Every permission's name: the `perms` of the `admin` role.
    pub fn all_names() -> Vec<String> {
        Self::ALL.iter().map(|p| p.as_str().to_owned()).collect()
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_a_unique_domain_verb_name() {
        let mut seen = std::collections::HashSet::new();
        for permission in Permission::ALL {
            let name = permission.as_str();
            assert!(seen.insert(name), "{name} twice");
            let (domain, verb) = name.split_once(':').expect("domain:verb");
            assert!(!domain.is_empty() && !verb.is_empty() && !verb.contains(':'), "{name}");
            assert_eq!(Permission::parse(name), Some(*permission));
        }
        assert_eq!(Permission::ALL.len(), 17);
    }
}
