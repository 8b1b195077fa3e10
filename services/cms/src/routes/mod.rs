//! The cms service's HTTP routes: none yet beyond the operational ones the kit serves.

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// The business routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter {
    OpenApiRouter::new()
}

/// The business routes, served behind the internal-token guard.
pub fn router() -> Router {
    api().split_for_parts().0
}

/// The OpenAPI description of the service's public routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}
