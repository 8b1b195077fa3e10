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
    ShippingWrite = "shipping:write" "Create and change shipping zones and methods.",
    TaxesWrite = "taxes:write" "Set and remove VAT rates by country and tax class.",
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

/// A staff role: a named set of permissions, stored per account in auth and carried, as its
/// permissions, in the staff member's access tokens. Every role holds `admin:access`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Everything.
    Admin,
    /// Products, reviews, stock, media, discount codes.
    CatalogManager,
    /// Orders, shipping (zones and methods too), refunds, and the customers behind them.
    OrderManager,
    /// Customers: look them up, see their orders and messages, disable an account.
    Support,
    /// Content pages, menus, snippets and their media.
    ContentEditor,
}

impl StaffRole {
    pub const ALL: &'static [StaffRole] =
        &[Self::Admin, Self::CatalogManager, Self::OrderManager, Self::Support, Self::ContentEditor];

    /// The name stored in auth and accepted by `POST /admin/staff`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::CatalogManager => "catalog_manager",
            Self::OrderManager => "order_manager",
            Self::Support => "support",
            Self::ContentEditor => "content_editor",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == name)
    }

    /// What the role holds, `admin:access` first.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Admin => Permission::ALL,
            Self::CatalogManager => &[
                AdminAccess,
                CatalogWrite,
                ReviewsModerate,
                InventoryWrite,
                MediaWrite,
                PromotionsWrite,
                AnalyticsRead,
            ],
            Self::OrderManager => &[
                AdminAccess,
                OrdersRead,
                OrdersWrite,
                PaymentsRefund,
                InventoryWrite,
                ShippingWrite,
                CustomersRead,
                AnalyticsRead,
            ],
            Self::Support => &[AdminAccess, OrdersRead, CustomersRead, CustomersWrite, NotificationsRead],
            Self::ContentEditor => &[AdminAccess, ContentWrite, MediaWrite],
        }
    }

    pub fn holds(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// The permissions' names, as a token's `perms` claim carries them.
    pub fn permission_names(self) -> Vec<String> {
        self.permissions().iter().map(|p| p.as_str().to_owned()).collect()
    }
}

impl std::fmt::Display for StaffRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
        assert_eq!(Permission::ALL.len(), 19);
    }

    #[test]
    fn every_staff_role_opens_the_back_office_and_only_admin_holds_everything() {
        for role in StaffRole::ALL {
            assert_eq!(role.permissions().first(), Some(&Permission::AdminAccess), "{role}");
            assert_eq!(StaffRole::parse(role.as_str()), Some(*role));
            let distinct: std::collections::HashSet<_> = role.permissions().iter().collect();
            assert_eq!(distinct.len(), role.permissions().len(), "{role} lists a permission twice");
            let everything = role.permissions().len() == Permission::ALL.len();
            assert_eq!(everything, *role == StaffRole::Admin, "{role}");
            // Managing staff and keys stays with administrators.
            assert_eq!(role.holds(Permission::StaffWrite), *role == StaffRole::Admin);
            assert_eq!(role.holds(Permission::KeysRotate), *role == StaffRole::Admin);
        }
        assert_eq!(StaffRole::parse("customer"), None);
    }
}
