//! The staff's writes to pages: create, change the draft (guarded by its revision), publish now
//! or at a time, take down, restore a version, and make a preview link. Each renders what it
//! needs before its transaction, then locks the page, checks that the draft is still the one
//! it rendered, and writes the change with its audit entry (and, when something goes live, its
//! event and revalidation) before it commits.

use base64::Engine;
use chrono::{DateTime, Utc};
use events::audit::AuditRecorded;
use serde::Serialize;
use service_kit::{Code, FieldCode, FieldErrors, Problem};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Cms;
use crate::domain::{self, Block, Draft, Seo};
use crate::error::{ApiError, Result};
use crate::store::{self, Page};

/// A page with its draft, as staff edit it.
#[derive(Serialize, ToSchema)]
pub(crate) struct PageDraft {
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

/// Refuses a change whose `If-Match` (the header's text) names another revision than the
/// current one; no `If-Match` admits any.
fn check_if_match(if_match: Option<&str>, revision: i32) -> Result<()> {
    let Some(raw) = if_match else { return Ok(()) };
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

/// The page with this slug (staff see every page, published or not).
pub(crate) async fn find(cms: &Cms, slug: &str) -> Result<Page> {
    store::find_page(&cms.pool, slug).await?.ok_or(ApiError::PageNotFound)
}

/// Checks a draft and that its images exist (rendering it), so problems surface while editing.
async fn check_draft(cms: &Cms, draft: &Draft, errors: &mut FieldErrors) -> Result<()> {
    draft.check(errors);
    if errors.is_empty() {
        cms.render(draft).await?;
    }
    Ok(())
}

/// Creates a page with its first draft.
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub(crate) async fn create(cms: &Cms, by: &str, slug: &str, draft: Draft) -> Result<Page> {
    let mut errors = FieldErrors::default();
    domain::check_slug("slug", slug, 100, &mut errors);
    check_draft(cms, &draft, &mut errors).await?;
    errors.finish()?;
    let mut tx = cms.pool.begin().await?;
    let page = store::insert_page(&mut tx, Uuid::now_v7(), slug, &draft, by).await?;
    audit_page(&mut tx, by, "page.create", None, &page).await?;
    tx.commit().await?;
    Ok(page)
}

/// Changes the draft (`change` edits it) if `if_match` admits its revision.
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub(crate) async fn update(
    cms: &Cms,
    by: &str,
    slug: &str,
    if_match: Option<&str>,
    change: impl FnOnce(&mut Draft),
) -> Result<Page> {
    let current = find(cms, slug).await?;
    check_if_match(if_match, current.revision)?;
    let mut draft = current.draft();
    change(&mut draft);
    let mut errors = FieldErrors::default();
    check_draft(cms, &draft, &mut errors).await?;
    errors.finish()?;
    // The lock and the revision check again: a change committed while this one was being
    // checked wins, and this one is refused rather than silently overwriting it.
    let mut tx = cms.pool.begin().await?;
    let page = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    if page.revision != current.revision {
        return Err(Problem::new(Code::StaleRevision, "the draft changed while this change was checked; reload").into());
    }
    let updated = store::update_draft(&mut tx, page.id, &draft, by).await?;
    audit_page(&mut tx, by, "page.update", Some(&page), &updated).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Publishes the draft now (`at` none) or at `at`, optionally taking the page down again at
/// `unpublish_at`.
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub(crate) async fn publish(
    cms: &Cms,
    by: &str,
    slug: &str,
    at: Option<DateTime<Utc>>,
    unpublish_at: Option<DateTime<Utc>>,
) -> Result<Page> {
    let now = cms.settings.clock.now();
    let mut errors = FieldErrors::default();
    if at.is_some_and(|at| at <= now) {
        errors.push("at", FieldCode::OutOfRange, "a time in the future (leave it out to publish now)");
    }
    if unpublish_at.is_some_and(|until| until <= at.unwrap_or(now)) {
        errors.push("unpublish_at", FieldCode::OutOfRange, "after the page goes live");
    }
    errors.finish()?;
    let draft = find(cms, slug).await?.draft();
    let rendered = cms.render(&draft).await?;
    let mut tx = cms.pool.begin().await?;
    let page = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    if page.draft() != draft {
        return Err(Problem::new(Code::StaleRevision, "the draft changed while it was being published; retry").into());
    }
    match at {
        None => {
            cms.publish_now(&mut tx, &page, &draft, &rendered, by).await?;
            store::set_schedule(&mut tx, page.id, None, unpublish_at).await?;
        }
        Some(at) => {
            let version = store::insert_version(&mut tx, page.id, &draft, &rendered, Some(at), by).await?;
            store::set_schedule(&mut tx, page.id, Some((version, at)), unpublish_at).await?;
        }
    }
    let after = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    let action = if at.is_some() { "page.schedule" } else { "page.publish" };
    audit_page(&mut tx, by, action, Some(&page), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Takes the page down now (`at` none) or at `at`.
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub(crate) async fn unpublish(cms: &Cms, by: &str, slug: &str, at: Option<DateTime<Utc>>) -> Result<Page> {
    let now = cms.settings.clock.now();
    if at.is_some_and(|at| at <= now) {
        let mut errors = FieldErrors::default();
        errors.push("at", FieldCode::OutOfRange, "a time in the future (leave it out to take the page down now)");
        errors.finish()?;
    }
    let mut tx = cms.pool.begin().await?;
    let page = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    match at {
        None if page.live_version.is_some() => {
            cms.take_down(&mut tx, &page).await?;
            store::set_schedule(&mut tx, page.id, None, None).await?;
        }
        None if page.scheduled_version.is_some() => store::set_schedule(&mut tx, page.id, None, None).await?,
        Some(at) if page.live_version.is_some() || page.publish_at.is_some_and(|p| p < at) => {
            let scheduled = page.scheduled_version.zip(page.publish_at);
            store::set_schedule(&mut tx, page.id, scheduled, Some(at)).await?;
        }
        _ => return Err(Problem::new(Code::NotPublished, "the page is neither live nor scheduled").into()),
    }
    let after = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    audit_page(&mut tx, by, "page.unpublish", Some(&page), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Makes `version` the draft again, and with `publish` also a new live version.
#[tracing::instrument(skip_all, fields(slug = %slug, version = version))]
pub(crate) async fn restore(cms: &Cms, by: &str, slug: &str, version: i32, publish: bool) -> Result<Page> {
    let page = find(cms, slug).await?;
    let restored = store::version(&mut *cms.pool.acquire().await?, page.id, version)
        .await?
        .ok_or_else(|| Problem::not_found("no such version"))?;
    let draft = Draft { title: restored.title, seo: restored.seo.0, blocks: restored.blocks.0 };
    let rendered = if publish { Some(cms.render(&draft).await?) } else { None };
    let mut tx = cms.pool.begin().await?;
    let before = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    let page = store::update_draft(&mut tx, before.id, &draft, by).await?;
    if let Some(rendered) = rendered {
        cms.publish_now(&mut tx, &page, &draft, &rendered, by).await?;
    }
    let after = store::lock_page(&mut tx, slug).await?.ok_or(ApiError::PageNotFound)?;
    audit_page(&mut tx, by, &format!("page.restore_version_{version}"), Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// The digest a preview token is kept as.
pub(crate) fn token_digest(token: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

/// A preview link's token (shown once) and when it stops working.
pub(crate) struct IssuedPreview {
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// A new preview token for the page's draft, working for `expires_in_secs` (default and most:
/// the configured preview lifetime).
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub(crate) async fn preview_link(
    cms: &Cms,
    by: &str,
    slug: &str,
    expires_in_secs: Option<u64>,
) -> Result<IssuedPreview> {
    let most = cms.settings.preview_ttl.as_secs();
    let seconds = expires_in_secs.unwrap_or(most);
    if !(60..=most).contains(&seconds) {
        let mut errors = FieldErrors::default();
        errors.push("expires_in_secs", FieldCode::OutOfRange, format!("60 to {most}"));
        errors.finish()?;
    }
    let page = find(cms, slug).await?;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Problem::internal(&"no randomness for the token"))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = cms.settings.clock.now() + chrono::Duration::seconds(seconds as i64);
    let mut tx = cms.pool.begin().await?;
    store::insert_preview(&mut tx, &token_digest(&token), page.id, expires_at, by).await?;
    // The token is a secret: the log says only that a link was made and until when.
    let after = Some(serde_json::json!({"preview_link_expires_at": expires_at}));
    let entry = AuditRecorded::new(by, "page.preview_link", format!("page:{slug}"), None, after);
    events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
    tx.commit().await?;
    Ok(IssuedPreview { token, expires_at })
}
