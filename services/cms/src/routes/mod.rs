//! The cms service's HTTP routes: what the storefront reads (a page's live version, a menu, a
//! snippet, a preview) here, cacheable by the CDN; staff writes in `staff`.

mod staff;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::conditional::Tagged;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Json, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::Cms;
use crate::domain::{MenuItem, RenderedBlock, Seo};
use crate::error::{ApiError, Result};
use crate::store;

pub(crate) type AppState = Cms;

/// What a CDN and browsers may do with a public content response: keep it a minute and serve
/// it stale for five while they revalidate (publishing also tells the storefront at once).
pub(crate) const PUBLIC_CACHE: &str = "public, max-age=60, stale-while-revalidate=300";

/// The routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff::list_pages, staff::create_page))
        .routes(routes!(get_page, staff::update_page))
        .routes(routes!(staff::get_draft))
        .routes(routes!(staff::publish_page))
        .routes(routes!(staff::unpublish_page))
        .routes(routes!(staff::list_versions))
        .routes(routes!(staff::restore_version))
        .routes(routes!(staff::create_preview_link))
        .routes(routes!(preview))
        .routes(routes!(get_menu, staff::put_menu))
        .routes(routes!(get_snippet, staff::put_snippet))
        .routes(routes!(staff::list_revalidations))
}

/// The business routes, served behind the internal-token guard.
pub(crate) fn router(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI description of the service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// A page as the public sees it.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct PublicPage {
    slug: String,
    title: String,
    seo: Seo,
    /// The version shown (a draft in a preview shows the next version's number).
    version: i32,
    /// When this version went live (none in a preview).
    published_at: Option<DateTime<Utc>>,
    blocks: Vec<RenderedBlock>,
    /// True only in a preview of a draft.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    preview: bool,
}

/// Serializes `body` and answers it with its ETag (304 when `If-None-Match` names it).
fn conditional<T: Serialize>(body: &T, headers: &HeaderMap, cache_control: &str) -> Result<Response> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Problem(Problem::internal(&e)))?;
    Ok(Tagged::new(bytes).respond(headers, cache_control))
}

/// `GET /content/pages/{slug}`.
#[utoipa::path(get, path = "/content/pages/{slug}", tag = "content", summary = "A page's published version",
    description = "The live version only, every block rendered: Markdown as sanitized `html` (raw HTML in the source \
        is shown as text; `javascript:` links lose their target), images with their URLs. Carries an `ETag` and \
        `Cache-Control: public`; `If-None-Match` with the current ETag answers 304.",
    params(("slug" = String, Path, description = "The page's slug.")),
    responses(
        (status = 200, description = "The page (with `ETag`, `Cache-Control: public`).", body = PublicPage),
        (status = 304, description = "Not modified: `If-None-Match` named the current ETag."),
        (status = 404, description = "`not_found`: no page with this slug is published.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_page(State(state): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Result<Response> {
    let page = store::live_page(&state.pool, &slug).await?.ok_or(ApiError::PageNotFound)?;
    let body = PublicPage {
        slug: page.slug,
        title: page.title,
        seo: page.seo.0,
        version: page.version,
        published_at: page.published_at,
        blocks: page.rendered.0,
        preview: false,
    };
    conditional(&body, &headers, PUBLIC_CACHE)
}

/// A preview token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewBody {
    /// From `POST /content/pages/{slug}/preview-links`.
    token: String,
}

/// `POST /content/preview`.
#[utoipa::path(post, path = "/content/preview", tag = "content", summary = "A page's current draft, through a preview link",
    description = "Renders the draft of the page the token opens, as `GET /content/pages/{slug}` would once published \
        (`preview: true`). The token travels in the body, never in a URL, so it stays out of access logs; the \
        storefront's preview page reads it from the link's fragment. Never cached (`Cache-Control: no-store`).",
    request_body = PreviewBody,
    responses(
        (status = 200, description = "The draft, rendered.", body = PublicPage),
        (status = 404, description = "`not_found`: the token is unknown or expired.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: an image of the draft is gone (`errors` names the block).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn preview(State(state): State<AppState>, Json(body): Json<PreviewBody>) -> Result<Response> {
    let hash = crate::app::pages::token_digest(&body.token);
    let page =
        store::preview_page(&state.pool, &hash, state.settings.clock.now()).await?.ok_or(ApiError::PageNotFound)?;
    let draft = page.draft();
    let blocks = state.render(&draft).await?;
    let body = PublicPage {
        slug: page.slug,
        title: draft.title,
        seo: draft.seo,
        version: page.live_version.unwrap_or(0) + 1,
        published_at: None,
        blocks,
        preview: true,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-store"));
    Ok(response)
}

/// A navigation menu.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct MenuBody {
    name: String,
    items: Vec<MenuItem>,
    /// Bumped by every change.
    revision: i32,
    updated_at: DateTime<Utc>,
}

impl From<store::Menu> for MenuBody {
    fn from(menu: store::Menu) -> Self {
        Self { name: menu.name, items: menu.items.0, revision: menu.revision, updated_at: menu.updated_at }
    }
}

/// `GET /content/menus/{name}`.
#[utoipa::path(get, path = "/content/menus/{name}", tag = "content", summary = "A navigation menu",
    params(("name" = String, Path, description = "The menu's name, e.g. `main` or `footer`.")),
    responses(
        (status = 200, description = "The menu (with `ETag`, `Cache-Control: public`).", body = MenuBody),
        (status = 304, description = "Not modified: `If-None-Match` named the current ETag."),
        (status = 404, description = "`not_found`: no such menu.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_menu(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Result<Response> {
    let menu = store::menu(&state.pool, &name).await?.ok_or_else(|| Problem::not_found("no such menu"))?;
    conditional(&MenuBody::from(menu), &headers, PUBLIC_CACHE)
}

/// A site-wide snippet (an announcement bar) as the public sees it.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct PublicSnippet {
    name: String,
    /// The Markdown rendered and sanitized.
    html: String,
    revision: i32,
    updated_at: DateTime<Utc>,
}

/// `GET /content/snippets/{name}`.
#[utoipa::path(get, path = "/content/snippets/{name}", tag = "content", summary = "A site-wide snippet (e.g. the announcement bar)",
    params(("name" = String, Path, description = "The snippet's name, e.g. `announcement`.")),
    responses(
        (status = 200, description = "The snippet (with `ETag`, `Cache-Control: public`).", body = PublicSnippet),
        (status = 304, description = "Not modified: `If-None-Match` named the current ETag."),
        (status = 404, description = "`not_found`: no such snippet, or it is switched off.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_snippet(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Result<Response> {
    let snippet = store::snippet(&state.pool, &name)
        .await?
        .filter(|s| s.active)
        .ok_or_else(|| Problem::not_found("no such snippet"))?;
    let body = PublicSnippet {
        name: snippet.name,
        html: snippet.html,
        revision: snippet.revision,
        updated_at: snippet.updated_at,
    };
    conditional(&body, &headers, PUBLIC_CACHE)
}
