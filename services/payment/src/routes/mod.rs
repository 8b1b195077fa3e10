//! The payment service's HTTP routes: an intent for an order, confirming it with a sandbox test
//! card, and the providers' webhooks.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use contracts::order::OrderClient;
use internal_token::Caller;
use serde::{Deserialize, Serialize};
use service_kit::Json;
use service_kit::problem_schema::ProblemSchema;
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain;
use crate::error::{ApiError, Result};
use crate::sandbox::{self, Sandbox};
use crate::store::{self, NewIntent, Payment, Recorded};

/// What every payment handler reads.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub orders: OrderClient,
    pub sandbox: Sandbox,
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_payment))
        .routes(routes!(get_payment))
        .routes(routes!(confirm))
        .routes(routes!(webhook))
}

pub fn router(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn payer(caller: &Caller) -> Result<Uuid> {
    caller.user_id().ok_or(ApiError::NotSignedIn)
}

/// `POST /payments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    order_id: Uuid,
}

/// `POST /payments`.
#[utoipa::path(post, path = "/payments", tag = "payments", summary = "Start paying an order",
    description = "One intent per order, whatever the retries (the same answer each time). Amount and currency are the order's.",
    params(("Idempotency-Key" = String, Header, description = "Required; the intent is idempotent by the order all the same.")),
    request_body = CreatePayment,
    responses(
        (status = 201, description = "The new intent, with what the storefront confirms it with.", body = Payment),
        (status = 200, description = "The order's existing intent.", body = Payment),
        (status = 404, description = "`not_found`: no such order of this shopper.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: the order is not awaiting payment.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `Idempotency-Key` or the body.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: retry.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn create_payment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<CreatePayment>,
) -> Result<Response> {
    let user_id = payer(&caller)?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if key.trim().is_empty() || key.len() > 255 {
        return Err(ApiError::KeyMissing);
    }
    let order = state.orders.order(body.order_id).await?.filter(|o| o.user_id == user_id).ok_or(ApiError::NotFound)?;
    let (intent_id, client_secret) = sandbox::new_intent();
    let intent = NewIntent {
        order_id: order.id,
        user_id,
        provider: sandbox::PROVIDER,
        provider_intent_id: &intent_id,
        amount_minor: order.total_minor,
        currency: &order.currency,
        client_secret: &client_secret,
    };
    if order.status != "awaiting_payment" {
        // An existing intent is still shown (a retry after success); a new one is refused.
        return match store::find_for_order(&state.pool, order.id).await? {
            Some(payment) => Ok((StatusCode::OK, Json(payment)).into_response()),
            None => Err(ApiError::InvalidTransition(format!("order {} is {}", order.number, order.status))),
        };
    }
    let (payment, created) = store::create_or_find(&state.pool, &intent).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(payment)).into_response())
}

/// `GET /payments/{id}`.
#[utoipa::path(get, path = "/payments/{id}", tag = "payments", summary = "A payment of the shopper",
    params(("id" = Uuid, Path, description = "The payment's id.")),
    responses(
        (status = 200, description = "The payment.", body = Payment),
        (status = 404, description = "`not_found`: no such payment of this shopper.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn get_payment(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Payment>> {
    let user_id = payer(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    store::find(&state.pool, id, user_id).await?.map(Json).ok_or(ApiError::NotFound)
}

/// `POST /payments/{id}/confirm` (sandbox).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// `4242424242424242` succeeds, `4000000000000002` declines.
    test_card: String,
}

/// Accepted for processing.
#[derive(Serialize, ToSchema)]
pub struct Processing {
    payment_id: Uuid,
    /// `processing`: the verdict arrives as a webhook.
    status: String,
}

/// `POST /payments/{id}/confirm`.
#[utoipa::path(post, path = "/payments/{id}/confirm", tag = "payments", summary = "Confirm a sandbox payment with a test card",
    description = "Only with the sandbox provider. The verdict arrives as a signed webhook, like Stripe's; poll `GET /payments/{id}` or the order.",
    params(("id" = Uuid, Path, description = "The payment's id.")),
    request_body = Confirm,
    responses(
        (status = 202, description = "Processing.", body = Processing),
        (status = 404, description = "`not_found`: no such payment of this shopper.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: already processing or succeeded.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: not a test card.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Confirm>,
) -> Result<Response> {
    let user_id = payer(&caller)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let outcome = domain::test_card(&body.test_card).ok_or(ApiError::UnknownCard)?;
    let payment = store::find(&state.pool, id, user_id).await?.ok_or(ApiError::NotFound)?;
    if !store::start_confirming(&state.pool, id).await? {
        return Err(ApiError::InvalidTransition(format!("the payment is {}", payment.status)));
    }
    let signed = state.sandbox.sign(
        outcome,
        &payment.provider_intent_id,
        payment.amount_minor,
        &payment.currency,
        &payment.order_id.to_string(),
    );
    let delivering = state.clone();
    tokio::spawn(async move {
        if !delivering.sandbox.post(&signed).await
            && let Err(error) = receive(&delivering, sandbox::PROVIDER, &signed.signature, &signed.body).await
        {
            tracing::error!(%error, "the sandbox verdict could not be recorded");
        }
    });
    Ok((StatusCode::ACCEPTED, Json(Processing { payment_id: id, status: "processing".into() })).into_response())
}

/// Verifies and applies one provider event (the same path for every delivery).
async fn receive(state: &AppState, provider: &str, signature: &str, body: &[u8]) -> Result<Recorded> {
    let secret = secrecy::ExposeSecret::expose_secret(&state.sandbox.secret).to_owned();
    domain::verify(signature, body, &secret, chrono::Utc::now().timestamp())?;
    let event: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::Signature(domain::SignatureError::Malformed))?;
    let (Some(event_id), Some(kind), Some(intent)) =
        (event["id"].as_str(), event["type"].as_str(), event.pointer("/data/object/id").and_then(|v| v.as_str()))
    else {
        return Err(ApiError::Signature(domain::SignatureError::Malformed));
    };
    let verdict = match kind {
        "payment_intent.succeeded" => Some(true),
        "payment_intent.payment_failed" => Some(false),
        _ => None,
    };
    let mut tx = state.pool.begin().await?;
    if !store::first_delivery(&mut tx, provider, event_id, kind).await? {
        return Ok(Recorded::Nothing);
    }
    let recorded = match verdict {
        Some(succeeded) => {
            store::record_verdict(&mut tx, provider, intent, succeeded, "declined by the provider").await?
        }
        None => Recorded::Nothing,
    };
    tx.commit().await?;
    Ok(recorded)
}

/// Acknowledged.
#[derive(Serialize, ToSchema)]
pub struct Received {
    received: bool,
}

/// `POST /payments/webhooks/{provider}`.
#[utoipa::path(post, path = "/payments/webhooks/{provider}", tag = "payments", summary = "A payment provider's webhook",
    description = "Authenticated by its `Stripe-Signature` (HMAC-SHA256 over `t.payload`, 300 s tolerance, any `v1` may match); events are applied once by id. A correctly signed event about an unknown intent is acknowledged and ignored.",
    params(
        ("provider" = String, Path, description = "`sandbox`."),
        ("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex>`."),
    ),
    request_body(content = String, content_type = "application/json", description = "The provider's event, raw."),
    responses(
        (status = 200, description = "Received.", body = Received),
        (status = 400, description = "`invalid_signature`: forged, stale or malformed; nothing changed.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such provider here.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn webhook(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>> {
    if provider != sandbox::PROVIDER {
        return Err(ApiError::NotFound);
    }
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    receive(&state, &provider, signature, &body).await?;
    Ok(Json(Received { received: true }))
}
