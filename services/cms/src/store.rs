//! All of the cms schema's SQL: pages with their draft and immutable versions, menus,
//! snippets, preview links, and the revalidations each publication queues (in its transaction,
//! with its event).

use chrono::{DateTime, Utc};
use contracts::types::DeliveryStatus;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Block, Draft, MenuItem, RenderedBlock, Seo};

/// The NOTIFY channel that wakes the revalidator when a revalidation is queued.
pub(crate) const WAKE_CHANNEL: &str = "cms_revalidate";

/// A page: its draft and where it stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Page {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub seo: Json<Seo>,
    pub blocks: Json<Vec<Block>>,
    pub revision: i32,
    pub live_version: Option<i32>,
    pub scheduled_version: Option<i32>,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub updated_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Page {
    pub(crate) fn draft(&self) -> Draft {
        Draft { title: self.title.clone(), seo: self.seo.0.clone(), blocks: self.blocks.0.clone() }
    }
}

const PAGE_COLUMNS: &str = "id, slug, title, seo, blocks, revision, live_version, scheduled_version, publish_at, \
    unpublish_at, updated_by, created_at, updated_at";

/// Creates a page with its first draft (revision 1, not published).
pub(crate) async fn insert_page(
    tx: &mut PgConnection,
    id: Uuid,
    slug: &str,
    draft: &Draft,
    by: &str,
) -> sqlx::Result<Page> {
    let sql = format!(
        "insert into pages (id, slug, title, seo, blocks, created_by, updated_by) values ($1, $2, $3, $4, $5, $6, $6) \
         returning {PAGE_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(slug)
        .bind(&draft.title)
        .bind(Json(&draft.seo))
        .bind(Json(&draft.blocks))
        .bind(by)
        .fetch_one(&mut *tx)
        .await
}

pub(crate) async fn find_page(pool: &PgPool, slug: &str) -> sqlx::Result<Option<Page>> {
    let sql = format!("select {PAGE_COLUMNS} from pages where slug = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(pool).await
}

/// The page, locked until `tx` ends (one change to a page at a time).
pub(crate) async fn lock_page(tx: &mut PgConnection, slug: &str) -> sqlx::Result<Option<Page>> {
    let sql = format!("select {PAGE_COLUMNS} from pages where slug = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(&mut *tx).await
}

/// Pages in slug order after `after`, at most `limit`.
pub(crate) async fn list_pages(pool: &PgPool, after: Option<&str>, limit: i64) -> sqlx::Result<Vec<Page>> {
    let sql = format!("select {PAGE_COLUMNS} from pages where slug > coalesce($1, '') order by slug limit $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(pool).await
}

/// Replaces the draft; the page as it now is (its revision bumped).
pub(crate) async fn update_draft(tx: &mut PgConnection, id: Uuid, draft: &Draft, by: &str) -> sqlx::Result<Page> {
    let sql = format!(
        "update pages set title = $2, seo = $3, blocks = $4, revision = revision + 1, updated_by = $5, \
         updated_at = now() where id = $1 returning {PAGE_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&draft.title)
        .bind(Json(&draft.seo))
        .bind(Json(&draft.blocks))
        .bind(by)
        .fetch_one(&mut *tx)
        .await
}

/// A version as made: its source (restorable) and when it went or goes live.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Version {
    pub version: i32,
    pub title: String,
    pub seo: Json<Seo>,
    pub blocks: Json<Vec<Block>>,
    pub published_at: Option<DateTime<Utc>>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const VERSION_COLUMNS: &str = "version, title, seo, blocks, published_at, scheduled_for, created_by, created_at";

/// Makes the next version of a page from `draft` and its rendering; its number.
pub(crate) async fn insert_version(
    tx: &mut PgConnection,
    page_id: Uuid,
    draft: &Draft,
    rendered: &[RenderedBlock],
    scheduled_for: Option<DateTime<Utc>>,
    by: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "insert into page_versions (page_id, version, title, seo, blocks, rendered, scheduled_for, created_by) \
         select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7 from page_versions where page_id = $1 \
         returning version",
    )
    .bind(page_id)
    .bind(&draft.title)
    .bind(Json(&draft.seo))
    .bind(Json(&draft.blocks))
    .bind(Json(rendered))
    .bind(scheduled_for)
    .bind(by)
    .fetch_one(&mut *tx)
    .await
}

/// Every version of a page, newest first.
pub(crate) async fn versions(pool: &PgPool, page_id: Uuid) -> sqlx::Result<Vec<Version>> {
    let sql = format!("select {VERSION_COLUMNS} from page_versions where page_id = $1 order by version desc");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(page_id).fetch_all(pool).await
}

pub(crate) async fn version(tx: &mut PgConnection, page_id: Uuid, version: i32) -> sqlx::Result<Option<Version>> {
    let sql = format!("select {VERSION_COLUMNS} from page_versions where page_id = $1 and version = $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(page_id).bind(version).fetch_optional(&mut *tx).await
}

/// Puts `version` live at `at` (a pending schedule is dropped: this publication replaces it).
pub(crate) async fn set_live(
    tx: &mut PgConnection,
    page_id: Uuid,
    version: i32,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update page_versions set published_at = $3 where page_id = $1 and version = $2")
        .bind(page_id)
        .bind(version)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "update pages set live_version = $2, scheduled_version = null, publish_at = null, updated_at = now() \
         where id = $1",
    )
    .bind(page_id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Schedules `version` to go live at `at` (replacing any earlier schedule), and sets or clears
/// the take-down time.
pub(crate) async fn set_schedule(
    tx: &mut PgConnection,
    page_id: Uuid,
    scheduled: Option<(i32, DateTime<Utc>)>,
    unpublish_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update pages set scheduled_version = $2, publish_at = $3, unpublish_at = $4, updated_at = now() where id = $1",
    )
    .bind(page_id)
    .bind(scheduled.map(|(version, _)| version))
    .bind(scheduled.map(|(_, at)| at))
    .bind(unpublish_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Takes the page down: no version is live, and no take-down is pending.
pub(crate) async fn take_down(tx: &mut PgConnection, page_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update pages set live_version = null, unpublish_at = null, updated_at = now() where id = $1")
        .bind(page_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// What the public is served for a page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LivePage {
    pub slug: String,
    pub version: i32,
    pub title: String,
    pub seo: Json<Seo>,
    pub rendered: Json<Vec<RenderedBlock>>,
    pub published_at: Option<DateTime<Utc>>,
}

/// The live version of the page at `slug`, if it has one.
pub(crate) async fn live_page(pool: &PgPool, slug: &str) -> sqlx::Result<Option<LivePage>> {
    sqlx::query_as(
        "select p.slug, v.version, v.title, v.seo, v.rendered, v.published_at from pages p \
         join page_versions v on v.page_id = p.id and v.version = p.live_version where p.slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await
}

/// Pages whose scheduled version is due at `now`, locked (other replicas skip them).
pub(crate) async fn due_publications(tx: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<Page>> {
    let sql = format!(
        "select {PAGE_COLUMNS} from pages where publish_at <= $1 order by publish_at limit $2 for update skip locked"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(&mut *tx).await
}

/// Pages whose take-down is due at `now` (and not outrun by a pending publication), locked.
pub(crate) async fn due_takedowns(tx: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<Page>> {
    let sql = format!(
        "select {PAGE_COLUMNS} from pages where unpublish_at <= $1 and (publish_at is null or publish_at > $1) \
         order by unpublish_at limit $2 for update skip locked"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(&mut *tx).await
}

/// A menu or a snippet as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Menu {
    pub id: Uuid,
    pub name: String,
    pub items: Json<Vec<MenuItem>>,
    pub revision: i32,
    pub updated_at: DateTime<Utc>,
}

/// Creates or replaces the menu `name`; the menu as it now is.
pub(crate) async fn put_menu(tx: &mut PgConnection, name: &str, items: &[MenuItem], by: &str) -> sqlx::Result<Menu> {
    sqlx::query_as(
        "insert into menus (id, name, items, updated_by) values ($1, $2, $3, $4) \
         on conflict (name) do update set items = excluded.items, updated_by = excluded.updated_by, \
         revision = menus.revision + 1, updated_at = now() \
         returning id, name, items, revision, updated_at",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(Json(items))
    .bind(by)
    .fetch_one(&mut *tx)
    .await
}

/// The menu `name`, locked until `tx` ends (its change and its audit entry see the same before).
pub(crate) async fn lock_menu(tx: &mut PgConnection, name: &str) -> sqlx::Result<Option<Menu>> {
    sqlx::query_as("select id, name, items, revision, updated_at from menus where name = $1 for update")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await
}

pub(crate) async fn menu(pool: &PgPool, name: &str) -> sqlx::Result<Option<Menu>> {
    sqlx::query_as("select id, name, items, revision, updated_at from menus where name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Snippet {
    pub id: Uuid,
    pub name: String,
    pub markdown: String,
    pub html: String,
    pub active: bool,
    pub revision: i32,
    pub updated_at: DateTime<Utc>,
}

/// Creates or replaces the snippet `name`; the snippet as it now is.
pub(crate) async fn put_snippet(
    tx: &mut PgConnection,
    name: &str,
    markdown: &str,
    html: &str,
    active: bool,
    by: &str,
) -> sqlx::Result<Snippet> {
    sqlx::query_as(
        "insert into snippets (id, name, markdown, html, active, updated_by) values ($1, $2, $3, $4, $5, $6) \
         on conflict (name) do update set markdown = excluded.markdown, html = excluded.html, \
         active = excluded.active, updated_by = excluded.updated_by, revision = snippets.revision + 1, \
         updated_at = now() returning id, name, markdown, html, active, revision, updated_at",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(markdown)
    .bind(html)
    .bind(active)
    .bind(by)
    .fetch_one(&mut *tx)
    .await
}

/// The snippet `name`, locked until `tx` ends.
pub(crate) async fn lock_snippet(tx: &mut PgConnection, name: &str) -> sqlx::Result<Option<Snippet>> {
    sqlx::query_as(
        "select id, name, markdown, html, active, revision, updated_at from snippets where name = $1 for update",
    )
    .bind(name)
    .fetch_optional(&mut *tx)
    .await
}

pub(crate) async fn snippet(pool: &PgPool, name: &str) -> sqlx::Result<Option<Snippet>> {
    sqlx::query_as("select id, name, markdown, html, active, revision, updated_at from snippets where name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await
}

/// Records a preview link by its token's digest.
pub(crate) async fn insert_preview(
    tx: &mut PgConnection,
    token_hash: &[u8],
    page_id: Uuid,
    expires_at: DateTime<Utc>,
    by: &str,
) -> sqlx::Result<()> {
    // Links expired a day ago are of no use to anyone: they go whenever a new one is made.
    sqlx::query("delete from preview_links where expires_at < now() - interval '1 day'").execute(&mut *tx).await?;
    sqlx::query("insert into preview_links (token_hash, page_id, expires_at, created_by) values ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(page_id)
        .bind(expires_at)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The page a preview token opens, while it has not expired.
pub(crate) async fn preview_page(pool: &PgPool, token_hash: &[u8], now: DateTime<Utc>) -> sqlx::Result<Option<Page>> {
    let sql = format!(
        "select {PAGE_COLUMNS} from pages where id = \
         (select page_id from preview_links where token_hash = $1 and expires_at > $2)"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(now).fetch_optional(pool).await
}

/// Queues the storefront's revalidation after an event (its id), in `tx`; wakes the sender.
pub(crate) async fn queue_revalidation(
    tx: &mut PgConnection,
    event_id: Uuid,
    kind: &str,
    key: &str,
    paths: &[String],
    tags: &[String],
) -> sqlx::Result<()> {
    sqlx::query("insert into revalidations (id, event_id, kind, key, paths, tags) values ($1, $2, $3, $4, $5, $6)")
        .bind(Uuid::now_v7())
        .bind(event_id)
        .bind(kind)
        .bind(key)
        .bind(Json(paths))
        .bind(Json(tags))
        .execute(&mut *tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("select pg_notify('{WAKE_CHANNEL}', '')"))).execute(&mut *tx).await?;
    Ok(())
}

/// A revalidation with its record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Revalidation {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub key: String,
    pub paths: Json<Vec<String>>,
    pub tags: Json<Vec<String>>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const REVALIDATION_COLUMNS: &str =
    "id, event_id, kind, key, paths, tags, status, attempts, last_error, created_at, sent_at";

/// Claims up to `limit` due revalidations for this sender: they are due again only after
/// `lease` (other replicas skip them meanwhile, and a sender that dies mid-call leaves them to
/// be retried then). No lock outlives the statement.
pub(crate) async fn claim_due_revalidations(
    pool: &PgPool,
    limit: i64,
    lease: std::time::Duration,
) -> sqlx::Result<Vec<Revalidation>> {
    let sql = format!(
        "update revalidations set next_attempt_at = now() + make_interval(secs => $2) where id in \
         (select id from revalidations where status = 'pending' and next_attempt_at <= now() \
          order by next_attempt_at limit $1 for update skip locked) \
         returning {REVALIDATION_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).bind(lease.as_secs_f64()).fetch_all(pool).await
}

/// Records one call and its outcome: sent, retried at `retry_at`, or failed for good.
pub(crate) async fn record_attempt(
    tx: &mut PgConnection,
    revalidation: &Revalidation,
    status_code: Option<u16>,
    error: Option<&str>,
    retry_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    let attempt = revalidation.attempts + 1;
    sqlx::query(
        "insert into revalidation_attempts (revalidation_id, attempt, status_code, error) values ($1, $2, $3, $4)",
    )
    .bind(revalidation.id)
    .bind(attempt)
    .bind(status_code.map(i32::from))
    .bind(error)
    .execute(&mut *tx)
    .await?;
    let status = match (error, retry_at) {
        (None, _) => DeliveryStatus::Sent,
        (Some(_), Some(_)) => DeliveryStatus::Pending,
        (Some(_), None) => DeliveryStatus::Failed,
    };
    sqlx::query(
        "update revalidations set attempts = $2, status = $3, last_error = $4, \
         next_attempt_at = coalesce($5, next_attempt_at), sent_at = case when $3 = 'sent' then now() end \
         where id = $1",
    )
    .bind(revalidation.id)
    .bind(attempt)
    .bind(status)
    .bind(error)
    .bind(retry_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The newest revalidations, newest first.
pub(crate) async fn recent_revalidations(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Revalidation>> {
    let sql = format!("select {REVALIDATION_COLUMNS} from revalidations order by created_at desc, id desc limit $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await
}
