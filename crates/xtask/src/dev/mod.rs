//! The developer's shop: the fleet of processes (`fleet`), `cargo xtask up` and its keys, NGINX config, the storefront stand-in, the Cloudflare ranges and a retrying shopper.

pub(crate) mod cloudflare;
pub(crate) mod fleet;
pub(crate) mod keys;
pub(crate) mod nginx;
pub(crate) mod shopper;
pub(crate) mod storefront;
pub(crate) mod up;
