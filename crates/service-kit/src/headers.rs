//! The names of the headers the fleet itself defines or trusts, in one place: the gateway sets
//! them, services read them, tests send them.

use axum::http::HeaderName;

pub use observability::REQUEST_ID_HEADER;

/// The client's address as the gateway determined it (after dropping any copy a client sent);
/// services trust it only on a call that carries a valid internal token from the gateway.
pub const CLIENT_IP: HeaderName = HeaderName::from_static("x-client-ip");

/// The client's address as NGINX saw it; the gateway believes it only from a trusted proxy.
pub const REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// A provider's own credentials (a webhook's `Authorization`), passed on by the gateway on
/// public routes only, since `Authorization` carries the internal token to the upstream.
pub const PROVIDER_AUTHORIZATION: HeaderName = HeaderName::from_static("x-provider-authorization");
