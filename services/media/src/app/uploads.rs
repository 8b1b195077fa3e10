//! Uploads and media as use cases. Completing an upload runs in three steps, and only the last
//! holds a lock, for two statements: read the upload (it must be the caller's, unexpired and
//! not completed); fetch, check, re-encode and store the renditions with nothing held (S3 and
//! the decoding may take seconds); then, under the upload's lock, record the media with
//! MEDIA_UPLOADED and its audit entry, unless a completion that raced this one got there first
//! (its objects are these, by their content's digest, so its media is answered instead).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use events::catalog::{MediaDeleted, MediaUploaded};
use service_kit::{Code, FieldErrors, Problem};
use sqlx::PgConnection;
use sqlx::types::Json as SqlJson;
use uuid::Uuid;

use super::AppState;
use crate::domain::{self, UploadRequest};
use crate::error::Result;
use crate::s3::{ObjectStore, Presigned};
use crate::store::{self, Media, StoredVariant, Upload};

/// A media item's public URLs: the original's, and each variant's JPEG and WebP by name.
pub(crate) fn urls(
    objects: &ObjectStore,
    media: &Media,
) -> (String, BTreeMap<String, String>, BTreeMap<String, String>) {
    let of = |pick: fn(&StoredVariant) -> &String| {
        media.variants.0.iter().map(|(name, v)| (name.clone(), objects.public_url(pick(v)))).collect()
    };
    (objects.public_url(&media.original_key), of(|v| &v.jpeg), of(|v| &v.webp))
}

/// Records a staff upload or deletion in the audit log, in its transaction.
async fn audit(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    media: &Media,
    after: Option<serde_json::Value>,
) -> sqlx::Result<()> {
    let before =
        (action == "media.delete").then(|| serde_json::json!({"filename": media.filename, "key": media.original_key}));
    let entry = events::audit::AuditRecorded::new(actor, action, format!("media:{}", media.id), before, after);
    events::audit::record(tx, crate::SERVICE, &entry).await?;
    Ok(())
}

/// Starts an upload: checks the request and records it with a presigned PUT (content type and
/// length bound into its signature).
#[tracing::instrument(skip_all)]
pub(crate) async fn start(state: &AppState, created_by: String, request: UploadRequest) -> Result<(Upload, Presigned)> {
    let mut errors = FieldErrors::default();
    domain::check_upload(&request, state.settings.max_bytes, &mut errors);
    errors.finish()?;
    let id = Uuid::now_v7();
    let raw_key = format!("uploads/{id}");
    let expiry = state.settings.upload_expiry;
    let presigned = state.objects.presign_put(&raw_key, &request.content_type, request.size, expiry).await?;
    let upload = Upload {
        id,
        created_by,
        filename: request.filename.trim().to_owned(),
        declared_type: request.content_type,
        declared_size: request.size,
        raw_key,
        expires_at: Utc::now() + chrono::Duration::from_std(expiry).unwrap_or_default(),
        media_id: None,
    };
    store::insert_upload(&state.pool, &upload).await?;
    Ok((upload, presigned))
}

/// What completing an upload did.
pub(crate) enum Completed {
    /// The media was made now.
    New(Media),
    /// The upload was completed before (or by a completion that raced this one).
    Before(Media),
}

fn no_upload() -> Problem {
    Problem::not_found("no such upload")
}

/// Completes `created_by`'s upload `id`.
#[tracing::instrument(skip_all, fields(upload_id = %id))]
pub(crate) async fn complete(state: &AppState, created_by: &str, id: Uuid) -> Result<Completed> {
    let upload = store::upload(&state.pool, id).await?.filter(|u| u.created_by == created_by).ok_or_else(no_upload)?;
    if let Some(media_id) = upload.media_id {
        return Ok(Completed::Before(store::find(&state.pool, media_id).await?.ok_or_else(no_upload)?));
    }
    if upload.expires_at < Utc::now() - chrono::Duration::minutes(1) {
        return Err(Problem::new(Code::UploadMissing, "the upload expired; start a new one").into());
    }
    let media = process(state, &upload).await?;
    let completed = record(state, &upload, media).await?;
    // The raw upload is no longer needed; if this fails it is only garbage in `uploads/`.
    if let Err(error) = state.objects.delete(&upload.raw_key).await {
        tracing::warn!(error = %service_kit::Chain(&error), key = %upload.raw_key, "the raw upload could not be deleted");
    }
    Ok(completed)
}

/// Fetches the raw upload, checks and re-encodes it (on the blocking pool, within the
/// processing permits) and stores the original and every variant under content-hashed keys:
/// the media to record. No transaction or lock is held here.
async fn process(state: &AppState, upload: &Upload) -> Result<Media> {
    let Some(bytes) = state.objects.get(&upload.raw_key, upload.declared_size).await? else {
        return Err(Problem::new(Code::UploadMissing, "nothing has been uploaded to the presigned URL yet").into());
    };
    if bytes.len() as i64 != upload.declared_size {
        state.objects.delete(&upload.raw_key).await?;
        let detail = format!("{} bytes arrived, {} were declared", bytes.len(), upload.declared_size);
        return Err(domain::Rejected::Image(detail).into());
    }
    let (limits, variants, declared) =
        (state.settings.limits, state.settings.variants.clone(), upload.declared_type.clone());
    let permit = Arc::clone(&state.processing).acquire_owned().await.map_err(|e| Problem::internal(&e))?;
    let processed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        domain::process(&bytes, &declared, limits, &variants)
    })
    .await
    .map_err(|e| Problem::internal(&e))?;
    let processed = match processed {
        Ok(processed) => processed,
        Err(rejected) => {
            // Nothing usable arrived: the raw object goes, the upload stays (completing again
            // says nothing is uploaded).
            state.objects.delete(&upload.raw_key).await?;
            return Err(rejected.into());
        }
    };
    let original = &processed.original;
    let original_key = domain::key(&processed.digest, "original", original.extension);
    state.objects.put(&original_key, original.bytes.clone(), original.content_type).await?;
    let mut stored = BTreeMap::new();
    for variant in &processed.variants {
        let jpeg = domain::key(&processed.digest, &variant.name, variant.jpeg.extension);
        let webp = domain::key(&processed.digest, &variant.name, variant.webp.extension);
        state.objects.put(&jpeg, variant.jpeg.bytes.clone(), variant.jpeg.content_type).await?;
        state.objects.put(&webp, variant.webp.bytes.clone(), variant.webp.content_type).await?;
        let (width, height) = (variant.jpeg.width, variant.jpeg.height);
        stored.insert(variant.name.clone(), StoredVariant { jpeg, webp, width, height });
    }
    Ok(Media {
        id: Uuid::now_v7(),
        created_by: upload.created_by.clone(),
        filename: upload.filename.clone(),
        content_type: original.content_type.to_owned(),
        original_key,
        bytes: original.bytes.len() as i64,
        width: original.width as i32,
        height: original.height as i32,
        variants: SqlJson(stored),
        created_at: Utc::now(),
    })
}

/// Records the processed media with MEDIA_UPLOADED and its audit entry under the upload's
/// lock, unless another completion recorded it first.
async fn record(state: &AppState, upload: &Upload, media: Media) -> Result<Completed> {
    let (url, variants, webp) = urls(&state.objects, &media);
    let event = MediaUploaded {
        media_id: media.id.into(),
        url,
        variants,
        webp,
        width: media.width as u32,
        height: media.height as u32,
    };
    let mut tx = state.pool.begin().await?;
    let current = store::lock_upload(&mut tx, upload.id).await?.ok_or_else(no_upload)?;
    if let Some(media_id) = current.media_id {
        drop(tx);
        return Ok(Completed::Before(store::find(&state.pool, media_id).await?.ok_or_else(no_upload)?));
    }
    store::insert_media(&mut tx, upload.id, &media).await?;
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    audit(&mut tx, &media.created_by, "media.upload", &media, Some(serde_json::json!(event))).await?;
    tx.commit().await?;
    Ok(Completed::New(media))
}

/// Deletes a media item (MEDIA_DELETED, audited), then its objects unless the same picture is
/// kept by another media item; 404 when there is none to delete.
#[tracing::instrument(skip_all, fields(media_id = %id))]
pub(crate) async fn delete(state: &AppState, actor: &str, id: Uuid) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let media = store::mark_deleted(&mut tx, id).await?.ok_or_else(|| Problem::not_found("no such media"))?;
    events::enqueue(&mut tx, crate::SERVICE, &MediaDeleted { media_id: id.into() }).await?;
    audit(&mut tx, actor, "media.delete", &media, None).await?;
    tx.commit().await?;
    if !store::key_still_used(&state.pool, &media.original_key).await? {
        state.objects.delete(&media.original_key).await?;
        for variant in media.variants.0.values() {
            state.objects.delete(&variant.jpeg).await?;
            state.objects.delete(&variant.webp).await?;
        }
    }
    Ok(())
}
