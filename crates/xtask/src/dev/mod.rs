//! The developer's shop and what drives it: the fleet of processes (`fleet`), `cargo xtask up`
//! and its keys, what a machine must have installed (`install`), the NGINX config, the
//! storefront stand-in, the Cloudflare ranges, backup and restore of its data (`backup`), the
//! public API's client (`api`), the mail files (`mail`) and a retrying shopper (`shopper`).
//! Nothing here uses the other groups (`ci`, `generate`, `bench`, `ops`): they build on it.

pub(crate) mod api;
pub(crate) mod backup;
pub(crate) mod cloudflare;
pub(crate) mod fleet;
pub(crate) mod install;
pub(crate) mod keys;
pub(crate) mod mail;
pub(crate) mod nginx;
pub(crate) mod ports;
pub(crate) mod shopper;
pub(crate) mod storefront;
pub(crate) mod up;
