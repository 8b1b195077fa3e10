//! Staff routes (permission `content:write`, checked here as well as at the gateway): pages and
//! their drafts, publishing now or on a schedule, taking down, versions and restoring them,
//! preview links, menus, snippets, and the record of storefront revalidations.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use events::audit::AuditRecorded;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Code, FieldCode, FieldErrors, Json, OptionalJson, Permission, Problem, Query};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, MenuBody};
use crate::domain::{self, Block, Draft, MenuItem, Seo};
use crate::error::{ApiError, Result};
use crate::store::{self, Page};

/// The staff member's id, once `content:write` is confirmed.
fn editor(caller: &Caller) -> Result<String> {
    caller.require_perm(Permission::ContentWrite)?;
    Ok(caller.subject().sub.clone())
}

/// A page with its draft, as staff edit it.
#[derive(Serialize, ToSchema)]
pub(super) struct PageDraft {
    id: Uuid,
    slug: String,
    title: String,
    seo: Seo,
    blocks: Vec<Block>,
    /// The draft's revision: send it back in `If-Match` to change the draft safely.
    revision: i32,
    /// The version the public sees (none: not published).
    live_version: Option<i32>,
    /// A version waiting to go live, and when.
    scheduled_version: Option<i32>,
    publish_at: Option<DateTime<Utc>>,
    /// When the page will be taken down.
    unpublish_at: Option<DateTime<Utc>>,
    updated_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Page> for PageDraft {
    fn from(page: Page) -> Self {
        Self {
            id: page.id,
            slug: page.slug,
            title: page.title,
            seo: page.seo.0,
            blocks: page.blocks.0,
            revision: page.revision,
            live_version: page.live_version,
            scheduled_version: page.scheduled_version,
            publish_at: page.publish_at,
            unpublish_at: page.unpublish_at,
            updated_by: page.updated_by,
            created_at: page.created_at,
            updated_at: page.updated_at,
        }
    }
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

/// Refuses a change whose `If-Match` names another revision than the current one.
fn check_if_match(headers: &HeaderMap, revision: i32) -> Result<()> {
    let Some(raw) = headers.get(IF_MATCH).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let current = revision.to_string();
    let matches = raw
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        let detail = format!("the draft is at revision {revision}; reload it and apply your change again");
        Err(Problem::new(Code::StaleRevision, detail).into())
    }
}

/// Records a staff write to a page in the audit log, in the write's transaction: the page as
/// staff see it before and after.
async fn audit_page(
    tx: &mut sqlx::PgConnection,
    by: &str,
    action: &str,
    before: Option<&Page>,
    after: &Page,
) -> Result<()> {
    let view = |page: &Page| serde_json::to_value(PageDraft::from(page.clone())).ok();
    let entry = AuditRecorded::new(by, action, format!("page:{}", after.slug), before.and_then(view), view(after));
    events::audit::record(tx, crate::SERVICE, &entry).await?;
    Ok(())
}

async fn find_page(state: &AppState, slug: &str) -> Result<Page> {
    store::find_page(&state.pool, slug).await?.ok_or(ApiError::PageNotFound)
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

/// Checks a draft and that its images exist (rendering it), so problems surface while editing.
async fn check_draft(state: &AppState, draft: &Draft, errors: &mut FieldErrors) -> Result<()> {
    draft.check(errors);
    if errors.is_empty() {
        state.render(draft).await?;
    }
    Ok(())
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
    let mut errors = FieldErrors::default();
    domain::check_slug("slug", &body.slug, 100, &mut errors);
    let draft = Draft { title: body.title, seo: body.seo, blocks: body.blocks };
    check_draft(&state, &draft, &mut errors).await?;
    errors.finish()?;
    let mut tx = state.pool.begin().await?;
    let page = store::insert_page(&mut tx, Uuid::now_v7(), &body.slug, &draft, &by).await?;
    audit_page(&mut tx, &by, "page.create", None, &page).await?;
    tx.commit().await?;
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
    Ok(draft_response(StatusCode::OK, find_page(&state, &slug).await?))
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
    let current = find_page(&state, &slug).await?;
    check_if_match(&headers, current.revision)?;
    let mut draft = current.draft();
    draft.title = change.title.unwrap_or(draft.title);
    draft.seo = change.seo.unwrap_or(draft.seo);
    draft.blocks = change.blocks.unwrap_or(draft.blocks);
    let mut errors = FieldErrors::default();
    check_draft(&state, &draft, &mut errors).await?;
    errors.finish()?;
    // The lock and the revision check again: a change committed while this one was being
    // checked wins, and this one is refused rather than silently overwriting it.
    let mut tx = state.pool.begin().await?;
    let page = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    if page.revision != current.revision {
        return Err(Problem::new(Code::StaleRevision, "the draft changed while this change was checked; reload").into());
    }
    let updated = store::update_draft(&mut tx, page.id, &draft, &by).await?;
    audit_page(&mut tx, &by, "page.update", Some(&page), &updated).await?;
    tx.commit().await?;
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
    let now = state.settings.clock.now();
    let mut errors = FieldErrors::default();
    if body.at.is_some_and(|at| at <= now) {
        errors.push("at", FieldCode::OutOfRange, "a time in the future (leave it out to publish now)");
    }
    if body.unpublish_at.is_some_and(|until| until <= body.at.unwrap_or(now)) {
        errors.push("unpublish_at", FieldCode::OutOfRange, "after the page goes live");
    }
    errors.finish()?;
    let draft = find_page(&state, &slug).await?.draft();
    let rendered = state.render(&draft).await?;
    let mut tx = state.pool.begin().await?;
    let page = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    if page.draft() != draft {
        return Err(Problem::new(Code::StaleRevision, "the draft changed while it was being published; retry").into());
    }
    match body.at {
        None => {
            state.publish_now(&mut tx, &page, &draft, &rendered, &by).await?;
            store::set_schedule(&mut tx, page.id, None, body.unpublish_at).await?;
        }
        Some(at) => {
            let version = store::insert_version(&mut tx, page.id, &draft, &rendered, Some(at), &by).await?;
            store::set_schedule(&mut tx, page.id, Some((version, at)), body.unpublish_at).await?;
        }
    }
    let after = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    let action = if body.at.is_some() { "page.schedule" } else { "page.publish" };
    audit_page(&mut tx, &by, action, Some(&page), &after).await?;
    tx.commit().await?;
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
    let now = state.settings.clock.now();
    if body.at.is_some_and(|at| at <= now) {
        let mut errors = FieldErrors::default();
        errors.push("at", FieldCode::OutOfRange, "a time in the future (leave it out to take the page down now)");
        errors.finish()?;
    }
    let mut tx = state.pool.begin().await?;
    let page = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    match body.at {
        None if page.live_version.is_some() => {
            state.take_down(&mut tx, &page).await?;
            store::set_schedule(&mut tx, page.id, None, None).await?;
        }
        None if page.scheduled_version.is_some() => store::set_schedule(&mut tx, page.id, None, None).await?,
        Some(at) if page.live_version.is_some() || page.publish_at.is_some_and(|p| p < at) => {
            let scheduled = page.scheduled_version.zip(page.publish_at);
            store::set_schedule(&mut tx, page.id, scheduled, Some(at)).await?;
        }
        _ => return Err(Problem::new(Code::NotPublished, "the page is neither live nor scheduled").into()),
    }
    let after = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    audit_page(&mut tx, &by, "page.unpublish", Some(&page), &after).await?;
    tx.commit().await?;
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
    let page = find_page(&state, &slug).await?;
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
    let page = find_page(&state, &slug).await?;
    let mut tx = state.pool.begin().await?;
    let restored =
        store::version(&mut tx, page.id, version).await?.ok_or_else(|| Problem::not_found("no such version"))?;
    tx.rollback().await?;
    let draft = Draft { title: restored.title, seo: restored.seo.0, blocks: restored.blocks.0 };
    let rendered = if body.publish { Some(state.render(&draft).await?) } else { None };
    let mut tx = state.pool.begin().await?;
    let before = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    let page = store::update_draft(&mut tx, before.id, &draft, &by).await?;
    if let Some(rendered) = rendered {
        state.publish_now(&mut tx, &page, &draft, &rendered, &by).await?;
    }
    let after = store::lock_page(&mut tx, &slug).await?.ok_or(ApiError::PageNotFound)?;
    audit_page(&mut tx, &by, &format!("page.restore_version_{version}"), Some(&before), &after).await?;
    tx.commit().await?;
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

/// The digest a preview token is kept as.
pub(super) fn token_digest(token: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref().to_vec()
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
    let most = state.settings.preview_ttl.as_secs();
    let seconds = body.expires_in_secs.unwrap_or(most);
    if !(60..=most).contains(&seconds) {
        let mut errors = FieldErrors::default();
        errors.push("expires_in_secs", FieldCode::OutOfRange, format!("60 to {most}"));
        errors.finish()?;
    }
    let page = find_page(&state, &slug).await?;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Problem::internal(&"no randomness for the token"))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = state.settings.clock.now() + chrono::Duration::seconds(seconds as i64);
    let mut tx = state.pool.begin().await?;
    store::insert_preview(&mut tx, &token_digest(&token), page.id, expires_at, &by).await?;
    // The token is a secret: the log says only that a link was made and until when.
    let after = Some(serde_json::json!({"preview_link_expires_at": expires_at}));
    let entry = AuditRecorded::new(&by, "page.preview_link", format!("page:{slug}"), None, after);
    events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
    tx.commit().await?;
    let url = format!("{}/preview#token={token}", state.settings.storefront_url);
    Ok((StatusCode::CREATED, Json(PreviewLink { url, token, expires_at })))
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
    let mut errors = FieldErrors::default();
    domain::check_slug("name", &name, 50, &mut errors);
    domain::check_menu(&body.items, &mut errors);
    errors.finish()?;
    let mut tx = state.pool.begin().await?;
    let before = store::lock_menu(&mut tx, &name).await?.map(|m| serde_json::json!(m.items.0));
    let menu = store::put_menu(&mut tx, &name, &body.items, &by).await?;
    state.announce_live(&mut tx, "menu", menu.id, &menu.name, menu.revision).await?;
    let entry =
        AuditRecorded::new(&by, "menu.put", format!("menu:{name}"), before, Some(serde_json::json!(body.items)));
    events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
    tx.commit().await?;
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
    let mut errors = FieldErrors::default();
    domain::check_slug("name", &name, 50, &mut errors);
    domain::check_snippet(&body.markdown, &mut errors);
    errors.finish()?;
    let html = markdown::to_safe_html(&body.markdown);
    let mut tx = state.pool.begin().await?;
    let view = |markdown: &str, active: bool| serde_json::json!({"markdown": markdown, "active": active});
    let before = store::lock_snippet(&mut tx, &name).await?.map(|s| view(&s.markdown, s.active));
    let snippet = store::put_snippet(&mut tx, &name, &body.markdown, &html, body.active, &by).await?;
    state.announce_live(&mut tx, "snippet", snippet.id, &snippet.name, snippet.revision).await?;
    let after = Some(view(&snippet.markdown, snippet.active));
    events::audit::record(
        &mut tx,
        crate::SERVICE,
        &AuditRecorded::new(&by, "snippet.put", format!("snippet:{name}"), before, after),
    )
    .await?;
    tx.commit().await?;
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
    /// `pending` (retrying), `sent` or `failed`.
    status: String,
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
