//! Each service's own settings, one module per service (the shared ones are in
//! [`crate::shared`], the few several services read alike in [`crate::site`]).

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod cart;
pub mod cms;
pub mod gateway;
pub mod inventory;
pub mod media;
pub mod notification;
pub mod order;
pub mod payment;
pub mod product;
pub mod search;
pub mod user;

use crate::Setting;

/// Every service's own settings by its name (and the bootstrap's).
pub const OWN: &[(&str, &[&Setting])] = &[
    ("gateway", gateway::ALL),
    ("auth", auth::ALL),
    ("user", user::ALL),
    ("product", product::ALL),
    ("inventory", inventory::ALL),
    ("cart", cart::ALL),
    ("order", order::ALL),
    ("payment", payment::ALL),
    ("admin", admin::ALL),
    ("notification", notification::ALL),
    ("search", search::ALL),
    ("analytics", analytics::ALL),
    ("cms", cms::ALL),
    ("media", media::ALL),
    (crate::bootstrap::NAME, crate::bootstrap::ALL),
];
