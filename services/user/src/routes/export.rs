//! `GET /users/me/export`: everything the shop holds about the signed-in shopper, as one JSON
//! document: the profile and preferences, addresses and devices (here), the orders (order
//! service) and reviews (product service), each owner called with the shopper's own identity.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use axum::response::{IntoResponse, Response};
use contracts::order::OrderClient;
use contracts::product::ProductClient;
use internal_token::Caller;
use serde::Serialize;
use service_kit::problem_schema::{ProblemSchema, SignInRequired};
use service_kit::{Code, Json, Problem};
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Result};
use crate::store::{self, Address, Device, Profile};

/// What the export needs: the profiles and the owners of the rest.
#[derive(Clone)]
pub(crate) struct ExportState {
    pub pool: PgPool,
    pub orders: OrderClient,
    pub products: ProductClient,
}

pub(crate) fn api() -> OpenApiRouter<ExportState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// The shopper's data, as one document.
#[derive(Serialize, ToSchema)]
pub(crate) struct Export {
    exported_at: chrono::DateTime<chrono::Utc>,
    /// The profile with its preferences; `null` when none was ever made.
    profile: Option<Profile>,
    addresses: Vec<Address>,
    devices: Vec<Device>,
    /// Every order, oldest first (as `GET /orders/{id}` shows each).
    #[schema(value_type = Vec<Object>)]
    orders: Vec<serde_json::Value>,
    /// Every review written, with its moderation status.
    #[schema(value_type = Vec<Object>)]
    reviews: Vec<serde_json::Value>,
}

/// `GET /users/me/export`.
#[utoipa::path(get, path = "/users/me/export", tag = "users", summary = "Download everything the shop holds about you", security(("bearer" = [])),
    description = "One JSON document: profile and preferences, addresses, push devices, orders and reviews. Sent as \
        an attachment, never cached.",
    responses(
        (status = 200, description = "The document (`Content-Disposition: attachment`).", body = Export),
        SignInRequired,
        (status = 503, description = "`upstream_unavailable`: the order or product service is not answering; retry.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn export(State(state): State<ExportState>, caller: Caller) -> Result<Response> {
    let user = super::user_id(&caller)?;
    let shopper = caller.subject();
    let owners = async {
        service_kit::tokio::try_join!(state.orders.export(shopper), state.products.export_reviews(shopper)).map_err(
            |error| {
                tracing::error!(error = %service_kit::Chain(&error), "an owner did not answer the export");
                ApiError::Problem(Problem::new(
                    Code::UpstreamUnavailable,
                    "part of your data is not reachable; retry shortly",
                ))
            },
        )
    };
    let mine = async {
        Ok::<_, ApiError>((
            store::find_profile(&state.pool, user).await?,
            store::list_addresses(&state.pool, user).await?,
            store::list_devices(&state.pool, user).await?,
        ))
    };
    let ((orders, reviews), (profile, addresses, devices)) = service_kit::tokio::try_join!(owners, mine)?;
    let document = Export { exported_at: chrono::Utc::now(), profile, addresses, devices, orders, reviews };
    let mut response = Json(document).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"shopfleet-data.json\""));
    Ok(response)
}
