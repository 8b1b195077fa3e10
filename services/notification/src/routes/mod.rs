//! Admin routes: what was sent to whom, and how it went.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use internal_token::Caller;
use serde::Serialize;
use service_kit::{FieldCode, FieldError, Json, Permission, Problem, Query};
use sqlx::PgPool;

use crate::error::Result;
use crate::store::{self, MessageSummary};

/// The admin routes, on the service's pool.
pub fn router(pool: PgPool) -> Router {
    Router::new().route("/notifications/messages", get(recent_messages)).with_state(pool)
}

#[derive(Serialize)]
pub struct MessagePage {
    items: Vec<MessageSummary>,
}

/// `GET /notifications/messages?limit=`: the most recent messages, newest first.
async fn recent_messages(
    State(pool): State<PgPool>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<MessagePage>> {
    caller.require_perm(Permission::NotificationsRead)?;
    let limit = match params.get("limit").map(|raw| raw.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            let error = FieldError::new("limit", FieldCode::OutOfRange, "limit must be from 1 to 100");
            return Err(Problem::validation(vec![error]).into());
        }
    };
    let items = store::recent(&pool, limit).await?;
    Ok(Json(MessagePage { items }))
}
