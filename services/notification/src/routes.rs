//! Admin routes: what was sent to whom, and how it went.

use std::collections::HashMap;

use axum::extract::State;
use internal_token::Caller;
use serde::Serialize;
use service_kit::{FieldCode, FieldError, Json, Permission, Problem, Query};
use sqlx::PgPool;

use crate::store::{self, MessageSummary};

#[derive(Serialize)]
pub struct MessagePage {
    items: Vec<MessageSummary>,
}

/// `GET /notifications/messages?limit=`: the most recent messages, newest first.
pub async fn recent_messages(
    State(pool): State<PgPool>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<MessagePage>, Problem> {
    caller.require_perm(Permission::NotificationsRead)?;
    let limit = match params.get("limit").map(|raw| raw.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "limit",
                FieldCode::OutOfRange,
                "limit must be from 1 to 100",
            )]));
        }
    };
    let items = store::recent(&pool, limit).await.map_err(|e| Problem::internal(&e))?;
    Ok(Json(MessagePage { items }))
}
