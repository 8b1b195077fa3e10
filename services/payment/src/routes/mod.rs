//! The payment service's HTTP routes: an intent for an order, confirming it with a sandbox test
//! card, the provider's webhooks, and staff refunds.

mod refunds;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use contracts::types::{OrderStatus, PaymentStatus};
use internal_token::Caller;
use internal_token::only_from;
use serde::{Deserialize, Serialize};
use service_kit::Json;
use service_kit::fleet;
use service_kit::problem_schema::ProblemSchema;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain;
use crate::error::{ApiError, Result};
use crate::provider::IntentRequest;
use crate::store::{self, NewIntent, Payment};

pub(crate) use crate::app::AppState;
use crate::app::webhooks::receive;

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_payment))
        .routes(routes!(get_payment))
        .routes(routes!(confirm))
        .routes(routes!(webhook))
        .routes(routes!(refunds::refund))
}

/// The public routes (from the gateway, and the sandbox's own webhook deliveries), and the
/// back office's internal route (from admin only).
pub(crate) fn router(state: AppState) -> Router {
    let public = api()
        .with_state(state.clone())
        .split_for_parts()
        .0
        .route_layer(from_fn(only_from(&[fleet::GATEWAY, fleet::PAYMENT])));
    let back_office = Router::new()
        .route(contracts::payment::ORDER_PAYMENT_PATH, axum::routing::get(order_payment))
        .route_layer(from_fn(only_from(&[fleet::ADMIN])))
        .with_state(state);
    public.merge(back_office)
}

/// `GET /internal/orders/{order_id}/payment` (admin, `orders:read`): the order's payment and its
/// refunds; `payment: null` before the shopper started paying.
async fn order_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
) -> Result<Json<contracts::payment::OrderPayment>> {
    caller.require_perm(service_kit::Permission::OrdersRead)?;
    let Ok(order_id) = Uuid::parse_str(&order_id) else {
        return Ok(Json(contracts::payment::OrderPayment { payment: None }));
    };
    Ok(Json(contracts::payment::OrderPayment { payment: store::record_for_order(&state.pool, order_id).await? }))
}

pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn payer(caller: &Caller) -> Result<Uuid> {
    caller.user_id().ok_or(ApiError::NotSignedIn)
}

/// `POST /payments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePayment {
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
        (status = 502, description = "`bad_gateway`: the provider refused to make the intent.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 503, description = "`upstream_unavailable`: the order service or the provider cannot be reached; retry.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn create_payment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<CreatePayment>,
) -> Result<Response> {
    let user_id = payer(&caller)?;
    service_kit::idempotency::key(&headers)?;
    let order = state.orders.order(body.order_id).await?.filter(|o| o.user_id == user_id).ok_or(ApiError::NotFound)?;
    // An existing intent is shown (a retry, also after success); the provider is not asked again.
    if let Some(payment) = store::find_for_order(&state.pool, order.id.into()).await? {
        return Ok((StatusCode::OK, Json(payment)).into_response());
    }
    if order.status != OrderStatus::AwaitingPayment {
        return Err(ApiError::InvalidTransition(format!("order {} is {}", order.number, order.status)));
    }
    // Starting to pay moves the order's deadline from the short unpaid hold to the payment
    // window; an order that expired meanwhile is not paid.
    let order = state.orders.payment_started(order.id.into()).await?.ok_or(ApiError::NotFound)?;
    if order.status != OrderStatus::AwaitingPayment {
        return Err(ApiError::InvalidTransition(format!("order {} is {}", order.number, order.status)));
    }
    // The provider's own idempotency key is the order's: however often this races or is
    // retried, the provider makes one intent, and the unique order id keeps one record of it.
    let request = IntentRequest {
        order_id: order.id.into(),
        amount_minor: order.total_minor,
        currency: order.currency,
        idempotency_key: format!("order-{}", order.id),
    };
    let made = state.provider.create_intent(&request).await?;
    let intent = NewIntent {
        order_id: order.id.into(),
        user_id,
        provider: state.provider.name(),
        provider_intent_id: &made.id,
        amount_minor: order.total_minor,
        currency: order.currency,
        client_secret: &made.client_secret,
    };
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
pub(crate) struct Confirm {
    /// `4242424242424242` succeeds, `4000000000000002` declines.
    test_card: String,
}

/// Accepted for processing.
#[derive(Serialize, ToSchema)]
pub(crate) struct Processing {
    payment_id: Uuid,
    /// `processing`: the verdict arrives as a webhook.
    status: PaymentStatus,
}

/// `POST /payments/{id}/confirm`.
#[utoipa::path(post, path = "/payments/{id}/confirm", tag = "payments", summary = "Confirm a sandbox payment with a test card",
    description = "Only with the sandbox provider. The verdict arrives as a signed webhook, like Stripe's; poll `GET /payments/{id}` or the order.",
    params(("id" = Uuid, Path, description = "The payment's id.")),
    request_body = Confirm,
    responses(
        (status = 202, description = "Processing.", body = Processing),
        (status = 404, description = "`not_found`: no such payment of this shopper, or the provider is not the sandbox.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: already processing, succeeded, or its order ended.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: not a test card.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Confirm>,
) -> Result<Response> {
    let user_id = payer(&caller)?;
    let sandbox = state.sandbox.clone().ok_or(ApiError::NotFound)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let outcome = domain::test_card(&body.test_card).ok_or(ApiError::UnknownCard)?;
    let payment = store::find(&state.pool, id, user_id).await?.ok_or(ApiError::NotFound)?;
    if !store::start_confirming(&state.pool, id).await? {
        return Err(ApiError::InvalidTransition(format!("the payment is {}", payment.status)));
    }
    // The sandbox decides on its side first (as a provider would), then tells us by webhook.
    let Some(signed) = sandbox.decide(&payment.provider_intent_id, outcome).await? else {
        return Err(ApiError::InvalidTransition("the provider has settled this payment".into()));
    };
    let delivering = state.clone();
    tokio::spawn(async move {
        if !sandbox.post(&signed).await
            && let Err(error) = receive(&delivering, &signed.signature, &signed.body).await
        {
            tracing::error!(error = %service_kit::Chain(&error), "the sandbox verdict could not be recorded");
        }
    });
    Ok((StatusCode::ACCEPTED, Json(Processing { payment_id: id, status: PaymentStatus::Processing })).into_response())
}

/// Acknowledged.
#[derive(Serialize, ToSchema)]
pub(crate) struct Received {
    received: bool,
}

/// `POST /payments/webhooks/{provider}`.
#[utoipa::path(post, path = "/payments/webhooks/{provider}", tag = "payments", summary = "A payment provider's webhook",
    description = "Authenticated by its `Stripe-Signature` (HMAC-SHA256 over `t.payload`, 300 s tolerance, any `v1` may match); events are applied once by id. A correctly signed event about an unknown intent is acknowledged and ignored.",
    params(
        ("provider" = String, Path, description = "The configured provider: `sandbox` or `stripe`."),
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
    if provider != state.provider.name() {
        return Err(ApiError::NotFound);
    }
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    receive(&state, signature, &body).await?;
    Ok(Json(Received { received: true }))
}
