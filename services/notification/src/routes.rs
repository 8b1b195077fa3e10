//! Admin routes: what was sent to whom, and how it went.

use std::collections::HashMap;

use axum::extract::State;
use internal_token::Caller;
use serde::Serialize;
use service_kit::{FieldError, Json, Problem, Query};
use sqlx::PgPool;

use crate::store::{self, MessageSummary};

/// The permission the listing needs (checked by the gateway too).
pub const READ_PERMISSION: &str = "notifications:read";

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
    caller.require_perm(READ_PERMISSION)?;
    let limit = match params.get("limit").map(|raw| raw.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "limit",
                "out_of_range",
                "limit must be from 1 to 100",
            )]));
        }
    };
    let items = store::recent(&pool, limit).await.map_err(|e| Problem::internal(&e))?;
    Ok(Json(MessagePage { items }))
}
