//! The media service's HTTP routes: presigned uploads and their completion (staff with
//! `media:write`), a media item's metadata and URLs (public), and its deletion.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::routing::get;
use chrono::{DateTime, Utc};
use contracts::media::{MAX_MEDIA, MEDIA_PATH, MediaInfo, MediaItems};
use events::catalog::MediaUploaded;
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{Code, FieldCode, FieldError, FieldErrors, Json, Permission, Problem, Query, fleet};
use sqlx::PgPool;
use sqlx::types::Json as SqlJson;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::config::MediaConfig;
use crate::domain::{self, UploadRequest};
use crate::error::Result;
use crate::s3::ObjectStore;
use crate::store::{self, Media, StoredVariant, Upload};

#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub objects: ObjectStore,
    pub settings: Arc<MediaConfig>,
    /// Images being decoded and resized now (`MEDIA_PROCESSING_CONCURRENCY` permits).
    pub processing: Arc<tokio::sync::Semaphore>,
}

/// The business routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload))
        .routes(routes!(complete_upload))
        .routes(routes!(get_media, delete_media))
}

/// The business routes (from the gateway) and the internal lookup (from cms), each behind its
/// callers' guard.
pub(crate) fn router(state: AppState) -> Router {
    let public = api().with_state(state.clone()).split_for_parts().0.route_layer(from_fn(only_from(&[fleet::GATEWAY])));
    let internal = Router::new()
        .route(MEDIA_PATH, get(internal_media))
        .with_state(state)
        .route_layer(from_fn(only_from(&[fleet::CMS])));
    public.merge(internal)
}

/// `GET /internal/media?ids=` (cms): media items with their public URLs.
async fn internal_media(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<MediaItems>> {
    let ids: Option<Vec<Uuid>> = query
        .get("ids")
        .map(|raw| raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().ok()).collect())
        .unwrap_or_default();
    let Some(ids) = ids.filter(|ids| !ids.is_empty() && ids.len() <= MAX_MEDIA) else {
        let error = FieldError::new("ids", FieldCode::InvalidValue, format!("1 to {MAX_MEDIA} media ids"));
        return Err(Problem::validation(vec![error]).into());
    };
    let items = store::find_many(&state.pool, &ids)
        .await?
        .iter()
        .map(|media| {
            let body = body_of(&state.objects, media);
            MediaInfo {
                media_id: body.media_id,
                url: body.url,
                variants: body.variants,
                webp: body.webp,
                width: body.width,
                height: body.height,
            }
        })
        .collect();
    Ok(Json(MediaItems { items }))
}

/// The OpenAPI description of the service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// A media or upload id from the path: anything that is no UUID is a 404 problem like an
/// unknown id (not the framework's plain-text 400).
fn id_of(raw: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| Problem::not_found(format!("no such {what}")).into())
}

fn staff(caller: &Caller) -> Result<String> {
    caller.require_perm(Permission::MediaWrite)?;
    Ok(caller.subject().sub.clone())
}

/// An upload to start.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadBody {
    filename: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    content_type: String,
    /// Exactly the bytes that will be PUT.
    size: i64,
}

/// Where and how to PUT the file.
#[derive(Serialize, ToSchema)]
pub(crate) struct UploadTicket {
    upload_id: Uuid,
    /// The presigned URL (the object store's, not this API's).
    url: String,
    /// Always `PUT`.
    method: &'static str,
    /// Headers to send with it exactly (content type and length are signed).
    headers: BTreeMap<String, String>,
    expires_at: DateTime<Utc>,
}

/// `POST /media/uploads`.
#[utoipa::path(post, path = "/media/uploads", tag = "media", summary = "Start an image upload (a presigned PUT)",
    description = "Answers a presigned PUT to the object store, valid for a short while, with the content type and \
        the length bound into its signature: the store itself refuses another type or size. Then call \
        `POST /media/uploads/{id}/complete`.",
    request_body = UploadBody,
    responses(
        (status = 201, description = "The presigned upload.", body = UploadTicket),
        (status = 403, description = "`forbidden`: needs `media:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `filename`, `content_type` (JPEG, PNG, WebP) or `size` (1 byte to the limit).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the object store is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn create_upload(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<UploadBody>,
) -> Result<(StatusCode, Json<UploadTicket>)> {
    let created_by = staff(&caller)?;
    let request = UploadRequest { filename: body.filename, content_type: body.content_type, size: body.size };
    let mut errors = FieldErrors::default();
    domain::check_upload(&request, state.settings.max_bytes, &mut errors);
    errors.finish()?;
    let id = Uuid::now_v7();
    let raw_key = format!("uploads/{id}");
    let expiry = state.settings.upload_expiry;
    let presigned = state.objects.presign_put(&raw_key, &request.content_type, request.size, expiry).await?;
    let expires_at = Utc::now() + chrono::Duration::from_std(expiry).unwrap_or_default();
    let upload = Upload {
        id,
        created_by,
        filename: request.filename.trim().to_owned(),
        declared_type: request.content_type,
        declared_size: request.size,
        raw_key,
        expires_at,
        media_id: None,
    };
    store::insert_upload(&state.pool, &upload).await?;
    let ticket = UploadTicket {
        upload_id: id,
        url: presigned.url,
        method: "PUT",
        headers: presigned.headers.into_iter().collect(),
        expires_at,
    };
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// A media item with its URLs.
#[derive(Serialize, ToSchema)]
pub(crate) struct MediaBody {
    media_id: Uuid,
    /// The re-encoded original (`<S3_PUBLIC_BASE_URL>/<key>`, no query string).
    url: String,
    /// Variant name → JPEG URL.
    variants: BTreeMap<String, String>,
    /// Variant name → WebP URL.
    webp: BTreeMap<String, String>,
    width: i32,
    height: i32,
    content_type: String,
    bytes: i64,
    filename: String,
    created_at: DateTime<Utc>,
}

fn body_of(objects: &ObjectStore, media: &Media) -> MediaBody {
    let urls = |pick: fn(&StoredVariant) -> &String| {
        media.variants.0.iter().map(|(name, v)| (name.clone(), objects.public_url(pick(v)))).collect()
    };
    MediaBody {
        media_id: media.id,
        url: objects.public_url(&media.original_key),
        variants: urls(|v| &v.jpeg),
        webp: urls(|v| &v.webp),
        width: media.width,
        height: media.height,
        content_type: media.content_type.clone(),
        bytes: media.bytes,
        filename: media.filename.clone(),
        created_at: media.created_at,
    }
}

/// `POST /media/uploads/{id}/complete`.
#[utoipa::path(post, path = "/media/uploads/{id}/complete", tag = "media", summary = "Complete an upload: check, re-encode, store the variants",
    description = "Reads the uploaded object, finds its real type from its bytes (a declared type it does not have is a \
        415), refuses more pixels than allowed before decoding (decompression bombs), re-encodes it (no EXIF or GPS \
        survives; the EXIF orientation is applied first), stores it and its variants (JPEG and WebP) under \
        content-hashed keys with `Cache-Control: public, max-age=31536000, immutable`, deletes the raw upload, records \
        the media and emits MEDIA_UPLOADED. Completing again answers the same media (200).",
    params(("id" = Uuid, Path, description = "The upload's id.")),
    responses(
        (status = 201, description = "The media, with every URL.", body = MediaBody),
        (status = 200, description = "Completed before: the same media.", body = MediaBody),
        (status = 403, description = "`forbidden`: needs `media:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such upload of yours.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`upload_missing`: nothing was uploaded yet, or the upload expired.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the bytes are not the type declared (or no image we take).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`image_rejected`: undecodable, too many pixels, or not the size declared.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the object store is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn complete_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<MediaBody>)> {
    let created_by = staff(&caller)?;
    let id = id_of(&id, "upload")?;
    // The upload is read, not held: the object store and the decoding happen with no lock or
    // connection held (review f5592e3 L6); the row is locked again only to record the result.
    let mut tx = state.pool.begin().await?;
    let upload = store::lock_upload(&mut tx, id)
        .await?
        .filter(|u| u.created_by == created_by)
        .ok_or_else(|| Problem::not_found("no such upload"))?;
    tx.rollback().await?;
    if let Some(media_id) = upload.media_id {
        let media = store::find(&state.pool, media_id).await?.ok_or_else(|| Problem::not_found("no such upload"))?;
        return Ok((StatusCode::OK, Json(body_of(&state.objects, &media))));
    }
    if upload.expires_at < Utc::now() - chrono::Duration::minutes(1) {
        return Err(Problem::new(Code::UploadMissing, "the upload expired; start a new one").into());
    }
    let Some(bytes) = state.objects.get(&upload.raw_key, upload.declared_size).await? else {
        return Err(Problem::new(Code::UploadMissing, "nothing has been uploaded to the presigned URL yet").into());
    };
    if bytes.len() as i64 != upload.declared_size {
        state.objects.delete(&upload.raw_key).await?;
        let detail = format!("{} bytes arrived, {} were declared", bytes.len(), upload.declared_size);
        return Err(crate::domain::Rejected::Image(detail).into());
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
    let media = Media {
        id: Uuid::now_v7(),
        created_by,
        filename: upload.filename.clone(),
        content_type: original.content_type.to_owned(),
        original_key,
        bytes: original.bytes.len() as i64,
        width: original.width as i32,
        height: original.height as i32,
        variants: SqlJson(stored),
        created_at: Utc::now(),
    };
    let body = body_of(&state.objects, &media);
    let event = MediaUploaded {
        media_id: media.id,
        url: body.url.clone(),
        variants: body.variants.clone(),
        webp: body.webp.clone(),
        width: original.width,
        height: original.height,
    };
    // Recorded under the upload's lock again: a completion that raced this one and got there
    // first is answered instead (its objects are these, by their content's digest).
    let mut tx = state.pool.begin().await?;
    let current = store::lock_upload(&mut tx, upload.id).await?.ok_or_else(|| Problem::not_found("no such upload"))?;
    if let Some(media_id) = current.media_id {
        tx.rollback().await?;
        let media = store::find(&state.pool, media_id).await?.ok_or_else(|| Problem::not_found("no such upload"))?;
        return Ok((StatusCode::OK, Json(body_of(&state.objects, &media))));
    }
    store::insert_media(&mut tx, upload.id, &media, &event).await?;
    tx.commit().await?;
    // The raw upload is no longer needed; if this fails it is only garbage in `uploads/`.
    if let Err(error) = state.objects.delete(&upload.raw_key).await {
        tracing::warn!(%error, key = %upload.raw_key, "the raw upload could not be deleted");
    }
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /media/{id}`.
#[utoipa::path(get, path = "/media/{id}", tag = "media", summary = "A media item's metadata and URLs",
    params(("id" = Uuid, Path, description = "The media's id.")),
    responses(
        (status = 200, description = "The media.", body = MediaBody),
        (status = 404, description = "`not_found`: no such media (or deleted).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_media(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<MediaBody>> {
    let id = id_of(&id, "media")?;
    let media = store::find(&state.pool, id).await?.ok_or_else(|| Problem::not_found("no such media"))?;
    Ok(Json(body_of(&state.objects, &media)))
}

/// `DELETE /media/{id}`.
#[utoipa::path(delete, path = "/media/{id}", tag = "media", summary = "Delete a media item and its variants",
    description = "Removes the original and every variant from the object store (unless the same picture is kept by \
        another media item) and emits MEDIA_DELETED.",
    params(("id" = Uuid, Path, description = "The media's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "`forbidden`: needs `media:write`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such media (or already deleted).", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the object store is not answering.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn delete_media(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let actor = staff(&caller)?;
    let id = id_of(&id, "media")?;
    let media =
        store::delete_media(&state.pool, id, &actor).await?.ok_or_else(|| Problem::not_found("no such media"))?;
    if !store::key_still_used(&state.pool, &media.original_key).await? {
        state.objects.delete(&media.original_key).await?;
        for variant in media.variants.0.values() {
            state.objects.delete(&variant.jpeg).await?;
            state.objects.delete(&variant.webp).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
