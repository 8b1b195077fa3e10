//! All of the media schema's SQL: uploads and the media they became. `app::uploads` puts the
//! statements together with their events in transactions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// An upload as recorded when it was presigned.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Upload {
    pub id: Uuid,
    pub created_by: String,
    pub filename: String,
    pub declared_type: String,
    pub declared_size: i64,
    pub raw_key: String,
    pub expires_at: DateTime<Utc>,
    pub media_id: Option<Uuid>,
}

/// A stored rendition of a variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredVariant {
    pub jpeg: String,
    pub webp: String,
    pub width: u32,
    pub height: u32,
}

/// A media item as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Media {
    pub id: Uuid,
    pub created_by: String,
    pub filename: String,
    pub content_type: String,
    pub original_key: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub variants: Json<std::collections::BTreeMap<String, StoredVariant>>,
    pub created_at: DateTime<Utc>,
}

pub(crate) async fn insert_upload(pool: &PgPool, upload: &Upload) -> sqlx::Result<()> {
    sqlx::query(
        "insert into uploads (id, created_by, filename, declared_type, declared_size, raw_key, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(upload.id)
    .bind(&upload.created_by)
    .bind(&upload.filename)
    .bind(&upload.declared_type)
    .bind(upload.declared_size)
    .bind(&upload.raw_key)
    .bind(upload.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

const UPLOAD_COLUMNS: &str = "id, created_by, filename, declared_type, declared_size, raw_key, expires_at, media_id";

/// The upload, locked until `tx` ends (one completion recorded at a time).
pub(crate) async fn lock_upload(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Upload>> {
    let sql = format!("select {UPLOAD_COLUMNS} from uploads where id = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await
}

/// The upload as it stands, unlocked.
pub(crate) async fn upload(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Upload>> {
    let sql = format!("select {UPLOAD_COLUMNS} from uploads where id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await
}

const MEDIA_COLUMNS: &str =
    "id, created_by, filename, content_type, original_key, bytes, width, height, variants, created_at";

/// A media item that is not deleted.
pub(crate) async fn find(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Media>> {
    let sql = format!("select {MEDIA_COLUMNS} from media where id = $1 and deleted_at is null");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await
}

/// These media items that are not deleted (an unknown id is simply absent).
pub(crate) async fn find_many(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<Vec<Media>> {
    let sql = format!("select {MEDIA_COLUMNS} from media where id = any($1) and deleted_at is null");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(ids).fetch_all(pool).await
}

/// Records the media and marks the upload completed by it.
pub(crate) async fn insert_media(tx: &mut PgConnection, upload_id: Uuid, media: &Media) -> sqlx::Result<()> {
    sqlx::query(
        "insert into media (id, created_by, filename, content_type, original_key, bytes, width, height, variants) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(media.id)
    .bind(&media.created_by)
    .bind(&media.filename)
    .bind(&media.content_type)
    .bind(&media.original_key)
    .bind(media.bytes)
    .bind(media.width)
    .bind(media.height)
    .bind(&media.variants)
    .execute(&mut *tx)
    .await?;
    sqlx::query("update uploads set media_id = $2 where id = $1")
        .bind(upload_id)
        .bind(media.id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Marks the media deleted; `None` when there was none to delete.
pub(crate) async fn mark_deleted(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Media>> {
    let sql =
        format!("update media set deleted_at = now() where id = $1 and deleted_at is null returning {MEDIA_COLUMNS}");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await
}

/// Whether another live media item keeps objects under `original_key` (the same picture
/// uploaded twice shares its content-hashed keys).
pub(crate) async fn key_still_used(pool: &PgPool, original_key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists(select 1 from media where original_key = $1 and deleted_at is null)")
        .bind(original_key)
        .fetch_one(pool)
        .await
}

/// Uploads never completed whose presigned URL expired longer than `grace` ago: (id, raw key).
pub(crate) async fn abandoned_uploads(
    pool: &PgPool,
    grace: std::time::Duration,
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "select id, raw_key from uploads where media_id is null \
         and expires_at < now() - make_interval(secs => $1) order by expires_at limit $2",
    )
    .bind(grace.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Forgets an abandoned upload (its raw object already deleted).
pub(crate) async fn forget_upload(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from uploads where id = $1 and media_id is null").bind(id).execute(pool).await?;
    Ok(())
}
