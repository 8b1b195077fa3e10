//! The cms service's HTTP routes: none yet beyond the operational ones the kit serves.

use axum::Router;

/// The business routes, served behind the internal-token guard.
pub fn router() -> Router {
    Router::new()
}
