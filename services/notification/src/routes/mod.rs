//! Admin routes: what was sent to whom, and how it went. Shopper routes: verifying the phone
//! number on their profile with a one-time code by SMS (`phone.rs`), before any SMS goes to it.

mod phone;

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use internal_token::Caller;
use serde::Serialize;
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldError, Json, Permission, Problem, Query};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::store::{self, MessageSummary};

pub(crate) use crate::app::AppState;

/// The routes with their OpenAPI description, from the same handlers.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recent_messages))
        .routes(routes!(phone::status, phone::send_code))
        .routes(routes!(phone::confirm))
}

/// The routes, on the service's state.
pub(crate) fn router(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI description of the notification service's public routes.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The most recent messages.
#[derive(Serialize, ToSchema)]
pub(crate) struct MessagePage {
    items: Vec<MessageSummary>,
}

/// `GET /notifications/messages?limit=`: the most recent messages, newest first.
#[utoipa::path(get, path = "/notifications/messages", tag = "notifications", summary = "The most recent messages sent",
    security(("bearer" = ["notifications:read"])),
    params(("limit" = Option<u32>, Query, description = "How many, 1 to 100 (default 50).")),
    responses(
        (status = 200, description = "Messages, newest first, without their bodies.", body = MessagePage),
        (status = 400, description = "`malformed_query`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 401, description = "`token_missing`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: needs `notifications:read`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `limit` (`out_of_range`).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn recent_messages(
    State(AppState { pool, .. }): State<AppState>,
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
