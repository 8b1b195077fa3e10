//! The gateway's own HTTP routes: the merged OpenAPI document at `/api/v1/openapi.json`, the
//! browsable API reference at `/api/docs` (its assets built into the binary: no CDN), and
//! everything else to the proxy, which forwards by the route table (`route_table`).

use axum::Router;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::path::API_PREFIX;
use crate::proxy::{Proxy, handle};
use crate::spec;

/// Where the reference lives.
pub(crate) const DOCS_PATH: &str = "/api/docs";

/// The gateway's router beside the operational routes.
pub(crate) fn router(proxy: Proxy) -> Result<Router, serde_json::Error> {
    let document: serde_json::Value = serde_json::from_str(spec::MERGED)?;
    let docs: Router =
        SwaggerUi::new(DOCS_PATH).external_url_unchecked(format!("{API_PREFIX}/openapi.json"), document).into();
    Ok(docs.merge(Router::new().fallback(handle).with_state(proxy)))
}
