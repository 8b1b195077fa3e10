//! The gateway's own HTTP routes: everything that is not an operational route goes to the
//! proxy, which forwards it by the route table (`route_table`).

use axum::Router;

use crate::proxy::{Proxy, handle};

/// The gateway's router beside the operational routes.
pub fn router(proxy: Proxy) -> Router {
    Router::new().fallback(handle).with_state(proxy)
}
