//! The internal reservation routes (order service only; the contract is
//! `contracts::inventory`): reserve all lines or none, idempotent by the order's id; commit;
//! release.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use contracts::inventory::{COMMIT_PATH, RELEASE_PATH, RESERVATIONS_PATH, Reservation, ReserveRequest};
use internal_token::Caller;
use service_kit::{FieldErrors, Json};
use uuid::Uuid;

use super::AppState;
use crate::app::stock::{self, Reserve};
use crate::domain::normalize_lines;
use crate::error::{ApiError, Result};
use crate::store::ReservationRow;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route(RESERVATIONS_PATH, post(reserve))
        .route(COMMIT_PATH, post(commit))
        .route(RELEASE_PATH, post(release))
        .with_state(state)
}

fn wire(row: ReservationRow) -> Reservation {
    Reservation { id: row.id.into(), status: row.status, lines: row.lines.0, expires_at: row.expires_at }
}

/// `POST /internal/reservations`: 201 when newly held, 200 when replayed, 409 `out_of_stock`
/// naming the SKUs (nothing held) or `reservation_conflict` (the id holds other lines).
async fn reserve(State(state): State<AppState>, caller: Caller, Json(body): Json<ReserveRequest>) -> Result<Response> {
    let mut errors = FieldErrors::default();
    let lines = normalize_lines(&mut errors, &body.lines);
    errors.finish()?;
    let hold = body.hold_secs.map_or(state.hold_secs, |s| s.clamp(1, 24 * 3600) as f64);
    Ok(match stock::reserve(&state.pool, body.id.into(), &lines, hold, caller.service()).await? {
        Reserve::Created(row) => (StatusCode::CREATED, Json(wire(row))).into_response(),
        Reserve::Replayed(row) => (StatusCode::OK, Json(wire(row))).into_response(),
    })
}

fn reservation_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::ReservationNotFound)
}

/// `POST /internal/reservations/{id}/commit`.
async fn commit(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Reservation>> {
    let id = reservation_id(&id)?;
    let row = stock::commit_now(&state.pool, id, caller.service()).await?;
    Ok(Json(wire(row)))
}

/// `POST /internal/reservations/{id}/release`.
async fn release(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Reservation>> {
    let id = reservation_id(&id)?;
    let row = stock::release_now(&state.pool, id, "released by the order service", caller.service()).await?;
    Ok(Json(wire(row)))
}
