//! Settings several services read alike: the storefront's address and the access tokens'
//! issuer and audience.

use crate::Setting;

/// Where `cargo xtask up`'s storefront runs: the storefront's address, and the origin CORS and
/// the refresh cookie allow, unless the site says otherwise.
pub const LOCAL_STOREFRONT: &str = "http://localhost:3000";

pub const STOREFRONT_URL: Setting = Setting::value(
    "STOREFRONT_URL",
    LOCAL_STOREFRONT,
    "The storefront's base URL: links in emails and the CMS's preview links point there.",
);
pub const AUTH_ISSUER: Setting = Setting::value("AUTH_ISSUER", "shopfleet-auth", "`iss` of access tokens.");
pub const API_AUDIENCE: Setting = Setting::value("API_AUDIENCE", "shopfleet-api", "`aud` of access tokens.");
