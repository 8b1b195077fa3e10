//! Staff routes (permission `content:write`, checked here as well as at the gateway): pages and
//! their drafts, publishing now or on a schedule, taking down, versions and restoring them,
//! preview links, menus, snippets, and the record of storefront revalidations.

use contracts::types::DeliveryStatus;
use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldErrors, Json, OptionalJson, Permission, Problem, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, MenuBody};
use crate::app::navigation;
use crate::app::pages::{self, PageDraft};
use crate::domain::{self, Block, Draft, MenuItem, Seo};
use crate::error::Result;
use crate::store::{self, Page};

/// The staff member's id, once `content:write` is confirmed.
fn editor(caller: &Caller) -> Result<String> {
    caller.require_perm(Permission::ContentWrite)?;
    Ok(caller.subject().sub.clone())
}

/// The draft with its revision as the ETag (what `If-Match` names).
fn draft_response(status: StatusCode, page: Page) -> Response {
    let etag = format!("\"{}\"", page.revision);
    let mut response = (status, Json(PageDraft::from(page))).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// A page to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewPage {
    /// Lowercase words joined by hyphens, at most 100 characters.
    slug: String,
    title: String,
    #[serde(default)]
    seo: Seo,
    #[serde(default)]
    blocks: Vec<Block>,
}

/// `POST /content/pages`.
#[utoipa::path(post, path = "/content/pages", tag = "content", summary = "Create a page (a draft)",
    description = "Blocks: `markdown` `{markdown}`, `image` `{media_id, alt, caption?}`, `product_grid` \
        `{title?, product_ids}` or `{title?, category, limit?}`, `banner` `{title, text?, image_media_id?, link?}`, \
        `faq` `{items: [{question, answer_markdown}]}`. Nothing is public until published.",
    request_body = NewPage,
    responses(
        (status = 201, description = "The page's draft (with its revision as `ETag`).", body = PageDraft),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`: another page has this slug.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `errors` names each field (`blocks[2].markdown`), including images that do not exist.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the media service is not answering (images cannot be checked).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_page(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewPage>,
) -> Result<Response> {
    let by = editor(&caller)?;
    let draft = Draft { title: body.title, seo: body.seo, blocks: body.blocks };
    let page = pages::create(&state, &by, &body.slug, draft).await?;
    Ok(draft_response(StatusCode::CREATED, page))
}

/// A page of pages.
#[derive(Serialize, ToSchema)]
pub(super) struct PageList {
    items: Vec<PageDraft>,
    /// Pass as `cursor` for the next page; none on the last.
    next_cursor: Option<String>,
}

/// `GET /content/pages`.
#[utoipa::path(get, path = "/content/pages", tag = "content", summary = "Every page, by slug (staff)",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 20)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "Pages with their drafts and where each stands.", body = PageList),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_pages(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<PageList>> {
    editor(&caller)?;
    let mut errors = FieldErrors::default();
    let limit = errors.check(contracts::listing::PageSize::parse(query.get("limit").map(String::as_str)));
    let after = query.get("cursor").cloned();
    if let Some(after) = &after {
        domain::check_slug("cursor", after, 100, &mut errors);
    }
    let limit = errors.finish_with(limit)?.get();
    let mut pages = store::list_pages(&state.pool, after.as_deref(), limit + 1).await?;
    let next_cursor = if pages.len() as i64 > limit {
        pages.truncate(limit as usize);
        pages.last().map(|p| p.slug.clone())
    } else {
        None
    };
    Ok(Json(PageList { items: pages.into_iter().map(PageDraft::from).collect(), next_cursor }))
}

/// `GET /content/pages/{slug}/draft`.
#[utoipa::path(get, path = "/content/pages/{slug}/draft", tag = "content", summary = "A page's draft (staff)",
    params(("slug" = String, Path, description = "The page's slug.")),
    responses(
        (status = 200, description = "The draft, its revision as `ETag`.", body = PageDraft),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response> {
    editor(&caller)?;
    Ok(draft_response(StatusCode::OK, pages::find(&state, &slug).await?))
}

/// Changes to a draft: what is sent replaces what was there.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DraftChange {
    title: Option<String>,
    seo: Option<Seo>,
    blocks: Option<Vec<Block>>,
}

/// `PATCH /content/pages/{slug}`.
#[utoipa::path(patch, path = "/content/pages/{slug}", tag = "content", summary = "Change a page's draft",
    description = "Changes the draft only; the public keeps seeing the live version until the next publication. \
        Send the revision you edited in `If-Match` (the draft's `ETag`): if someone else changed the draft \
        meanwhile, the answer is 412 and nothing is overwritten.",
    params(
        ("slug" = String, Path, description = "The page's slug."),
        ("If-Match" = Option<String>, Header, description = "The draft's revision you edited, e.g. `\"3\"`."),
    ),
    request_body = DraftChange,
    responses(
        (status = 200, description = "The draft, its new revision as `ETag`.", body = PageDraft),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 412, description = "`stale_revision`: the draft changed since the revision in `If-Match`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `errors` names each field.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the media service is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Json(change): Json<DraftChange>,
) -> Result<Response> {
    let by = editor(&caller)?;
    let if_match = headers.get(IF_MATCH).and_then(|v| v.to_str().ok());
    let updated = pages::update(&state, &by, &slug, if_match, |draft| {
        if let Some(title) = change.title {
            draft.title = title;
        }
        if let Some(seo) = change.seo {
            draft.seo = seo;
        }
        if let Some(blocks) = change.blocks {
            draft.blocks = blocks;
        }
    })
    .await?;
    Ok(draft_response(StatusCode::OK, updated))
}

/// When to publish (nothing: now) and, optionally, when to take the page down again.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PublishBody {
    /// A time in the future: the draft as it is now becomes a version that goes live then.
    at: Option<DateTime<Utc>>,
    /// Takes the page down at this time.
    unpublish_at: Option<DateTime<Utc>>,
}

/// `POST /content/pages/{slug}/publish`.
#[utoipa::path(post, path = "/content/pages/{slug}/publish", tag = "content", summary = "Publish a page's draft, now or at a time",
    description = "Makes an immutable version of the draft as it is now, rendered once. With no body (or no `at`) \
        it goes live at once; with `at` it goes live then (a newer schedule replaces an older one, and publishing \
        now drops a pending schedule). Either way CONTENT_PUBLISHED is emitted when it goes live and the storefront \
        is told to revalidate the page.",
    params(("slug" = String, Path, description = "The page's slug.")),
    request_body(content = Option<PublishBody>, description = "Optional; an empty body publishes now."),
    responses(
        (status = 200, description = "The page, with its live or scheduled version.", body = PageDraft),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `at` or `unpublish_at` in the past or out of order, or a block that cannot be rendered.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the media service is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn publish_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    OptionalJson(body): OptionalJson<PublishBody>,
) -> Result<Response> {
    let by = editor(&caller)?;
    let after = pages::publish(&state, &by, &slug, body.at, body.unpublish_at).await?;
    Ok(draft_response(StatusCode::OK, after))
}

/// When to take the page down (nothing: now).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct UnpublishBody {
    at: Option<DateTime<Utc>>,
}

/// `POST /content/pages/{slug}/unpublish`.
#[utoipa::path(post, path = "/content/pages/{slug}/unpublish", tag = "content", summary = "Take a page down, now or at a time",
    description = "Without a body the page stops being public at once (its versions are kept; a pending schedule is \
        dropped), CONTENT_UNPUBLISHED is emitted and the storefront is told to revalidate. With `at` it happens then.",
    params(("slug" = String, Path, description = "The page's slug.")),
    request_body(content = Option<UnpublishBody>, description = "Optional; an empty body takes the page down now."),
    responses(
        (status = 200, description = "The page as it now stands.", body = PageDraft),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`not_published`: nothing is live or scheduled to take down.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `at` is not in the future.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn unpublish_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    OptionalJson(body): OptionalJson<UnpublishBody>,
) -> Result<Response> {
    let by = editor(&caller)?;
    let after = pages::unpublish(&state, &by, &slug, body.at).await?;
    Ok(draft_response(StatusCode::OK, after))
}

/// A version in a page's history.
#[derive(Serialize, ToSchema)]
pub(super) struct VersionSummary {
    version: i32,
    title: String,
    /// When it went live (none: scheduled and not yet, or its schedule was replaced).
    published_at: Option<DateTime<Utc>>,
    scheduled_for: Option<DateTime<Utc>>,
    /// Whether the public sees it now.
    live: bool,
    created_by: String,
    created_at: DateTime<Utc>,
}

/// A page's versions, newest first.
#[derive(Serialize, ToSchema)]
pub(super) struct VersionList {
    items: Vec<VersionSummary>,
}

/// `GET /content/pages/{slug}/versions`.
#[utoipa::path(get, path = "/content/pages/{slug}/versions", tag = "content", summary = "A page's versions (staff)",
    params(("slug" = String, Path, description = "The page's slug.")),
    responses(
        (status = 200, description = "Every version, newest first.", body = VersionList),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<VersionList>> {
    editor(&caller)?;
    let page = pages::find(&state, &slug).await?;
    let items = store::versions(&state.pool, page.id)
        .await?
        .into_iter()
        .map(|v| VersionSummary {
            live: page.live_version == Some(v.version),
            version: v.version,
            title: v.title,
            published_at: v.published_at,
            scheduled_for: v.scheduled_for,
            created_by: v.created_by,
            created_at: v.created_at,
        })
        .collect();
    Ok(Json(VersionList { items }))
}

/// Whether to publish the restored draft at once.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RestoreBody {
    #[serde(default)]
    publish: bool,
}

/// `POST /content/pages/{slug}/versions/{version}/restore`.
#[utoipa::path(post, path = "/content/pages/{slug}/versions/{version}/restore", tag = "content", summary = "Restore a version into the draft",
    description = "The draft becomes what the version was (title, SEO, blocks); with `{\"publish\": true}` it is also \
        published at once, as a new version (versions are never changed or reused).",
    params(
        ("slug" = String, Path, description = "The page's slug."),
        ("version" = i32, Path, description = "The version to restore."),
    ),
    request_body(content = Option<RestoreBody>, description = "Optional."),
    responses(
        (status = 200, description = "The page with the restored draft.", body = PageDraft),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page or version.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the version shows an image that is gone (when publishing).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the media service is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn restore_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, version)): Path<(String, String)>,
    OptionalJson(body): OptionalJson<RestoreBody>,
) -> Result<Response> {
    let by = editor(&caller)?;
    // Read here rather than by the extractor, so that a version that is no number is a 404
    // problem like an unknown one, not the framework's plain-text 400.
    let version: i32 = version.parse().ok().filter(|v| *v > 0).ok_or_else(|| Problem::not_found("no such version"))?;
    let after = pages::restore(&state, &by, &slug, version, body.publish).await?;
    Ok(draft_response(StatusCode::OK, after))
}

/// How long the preview link should work.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PreviewLinkBody {
    /// Seconds, 60 up to the configured most (default: that most, a day unless configured).
    expires_in_secs: Option<u64>,
}

/// A preview link to share.
#[derive(Serialize, ToSchema)]
pub(super) struct PreviewLink {
    /// The storefront's preview page with the token in its fragment (never sent to a server
    /// in a URL; the page POSTs it to `/content/preview`).
    url: String,
    token: String,
    expires_at: DateTime<Utc>,
}

/// `POST /content/pages/{slug}/preview-links`.
#[utoipa::path(post, path = "/content/pages/{slug}/preview-links", tag = "content", summary = "Make a preview link for a page's draft",
    description = "An unguessable token (256 random bits; only its digest is stored) that shows whatever the draft \
        is when opened, until it expires.",
    params(("slug" = String, Path, description = "The page's slug.")),
    request_body(content = Option<PreviewLinkBody>, description = "Optional."),
    responses(
        (status = 201, description = "The link.", body = PreviewLink),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such page.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `expires_in_secs` out of range.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_preview_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    OptionalJson(body): OptionalJson<PreviewLinkBody>,
) -> Result<(StatusCode, Json<PreviewLink>)> {
    let by = editor(&caller)?;
    let issued = pages::preview_link(&state, &by, &slug, body.expires_in_secs).await?;
    let url = format!("{}/preview#token={}", state.settings.storefront_url, issued.token);
    Ok((StatusCode::CREATED, Json(PreviewLink { url, token: issued.token, expires_at: issued.expires_at })))
}

/// A menu's links.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MenuChange {
    items: Vec<MenuItem>,
}

/// `PUT /content/menus/{name}`.
#[utoipa::path(put, path = "/content/menus/{name}", tag = "content", summary = "Create or replace a navigation menu",
    description = "Live at once: CONTENT_PUBLISHED is emitted and the storefront told to revalidate the menu's tag \
        (`menu:<name>`). Links nest at most three levels, 200 in all.",
    params(("name" = String, Path, description = "The menu's name (lowercase words joined by hyphens).")),
    request_body = MenuChange,
    responses(
        (status = 200, description = "The menu as it now is.", body = MenuBody),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `errors` names each link (`items[0].children[1].href`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn put_menu(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<MenuChange>,
) -> Result<Json<MenuBody>> {
    let by = editor(&caller)?;
    let menu = navigation::put_menu(&state, &by, &name, &body.items).await?;
    Ok(Json(MenuBody::from(menu)))
}

/// A snippet as staff write it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SnippetChange {
    /// Markdown, rendered to sanitized HTML.
    markdown: String,
    /// Whether the storefront shows it (a switched-off snippet is a 404 to the public).
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

/// A snippet as staff see it.
#[derive(Serialize, ToSchema)]
pub(super) struct SnippetBody {
    name: String,
    markdown: String,
    html: String,
    active: bool,
    revision: i32,
    updated_at: DateTime<Utc>,
}

/// `PUT /content/snippets/{name}`.
#[utoipa::path(put, path = "/content/snippets/{name}", tag = "content", summary = "Create or replace a site-wide snippet",
    description = "Live at once (e.g. the announcement bar): CONTENT_PUBLISHED is emitted and the storefront told to \
        revalidate its tag (`snippet:<name>`).",
    params(("name" = String, Path, description = "The snippet's name (lowercase words joined by hyphens).")),
    request_body = SnippetChange,
    responses(
        (status = 200, description = "The snippet as it now is.", body = SnippetBody),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `name` or `markdown`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn put_snippet(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<SnippetChange>,
) -> Result<Json<SnippetBody>> {
    let by = editor(&caller)?;
    let snippet = navigation::put_snippet(&state, &by, &name, &body.markdown, body.active).await?;
    Ok(Json(SnippetBody {
        name: snippet.name,
        markdown: snippet.markdown,
        html: snippet.html,
        active: snippet.active,
        revision: snippet.revision,
        updated_at: snippet.updated_at,
    }))
}

/// A storefront revalidation and how it went.
#[derive(Serialize, ToSchema)]
pub(super) struct RevalidationView {
    id: Uuid,
    /// The CONTENT_PUBLISHED / CONTENT_UNPUBLISHED event it follows.
    event_id: Uuid,
    kind: String,
    key: String,
    paths: Vec<String>,
    tags: Vec<String>,
    /// `pending`: retrying.
    status: DeliveryStatus,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

/// The newest revalidations.
#[derive(Serialize, ToSchema)]
pub(super) struct RevalidationList {
    items: Vec<RevalidationView>,
}

/// `GET /content/revalidations`.
#[utoipa::path(get, path = "/content/revalidations", tag = "content", summary = "The storefront revalidations, newest first (staff)",
    params(("limit" = Option<i64>, Query, description = "1 to 100 (default 20).")),
    responses(
        (status = 200, description = "Each with its status and attempts.", body = RevalidationList),
        (status = 403, description = "`forbidden`: needs `content:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit`.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_revalidations(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<RevalidationList>> {
    editor(&caller)?;
    let mut errors = FieldErrors::default();
    let limit = errors.check(contracts::listing::PageSize::parse(query.get("limit").map(String::as_str)));
    let limit = errors.finish_with(limit)?.get();
    let items = store::recent_revalidations(&state.pool, limit)
        .await?
        .into_iter()
        .map(|r| RevalidationView {
            id: r.id,
            event_id: r.event_id,
            kind: r.kind,
            key: r.key,
            paths: r.paths.0,
            tags: r.tags.0,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
        .collect();
    Ok(Json(RevalidationList { items }))
}
