//! The media service's HTTP routes: presigned uploads and their completion (staff with
//! `media:write`), a media item's metadata and URLs (public), and its deletion.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::routing::get;
use chrono::{DateTime, Utc};
use contracts::media::{MAX_MEDIA, MEDIA_PATH, MediaInfo, MediaItems};
use internal_token::{Caller, only_from};
use serde::{Deserialize, Serialize};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldError, Json, Permission, Problem, Query, fleet};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) use crate::app::AppState;
use crate::app::uploads::{self, Completed};
use crate::domain::UploadRequest;
use crate::error::Result;
use crate::s3::ObjectStore;
use crate::store::{self, Media};

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
                media_id: body.media_id.into(),
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
    let (upload, presigned) = uploads::start(&state, created_by, request).await?;
    let ticket = UploadTicket {
        upload_id: upload.id,
        url: presigned.url,
        method: "PUT",
        headers: presigned.headers.into_iter().collect(),
        expires_at: upload.expires_at,
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
    let (url, variants, webp) = uploads::urls(objects, media);
    MediaBody {
        media_id: media.id,
        url,
        variants,
        webp,
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
    Ok(match uploads::complete(&state, &created_by, id).await? {
        Completed::New(media) => (StatusCode::CREATED, Json(body_of(&state.objects, &media))),
        Completed::Before(media) => (StatusCode::OK, Json(body_of(&state.objects, &media))),
    })
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
    uploads::delete(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
