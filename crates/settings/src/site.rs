//! Settings several services read alike: the storefront's address and the access tokens'
//! issuer and audience.

use crate::Setting;

pub const STOREFRONT_URL: Setting = Setting::value(
    "STOREFRONT_URL",
    "http://localhost:3000",
    "The storefront's base URL: links in emails and the CMS's preview links point there.",
);
pub const AUTH_ISSUER: Setting = Setting::value("AUTH_ISSUER", "shopfleet-auth", "`iss` of access tokens.");
pub const API_AUDIENCE: Setting = Setting::value("API_AUDIENCE", "shopfleet-api", "`aud` of access tokens.");
