//! The order service's internal contract: what an order costs and whose it is (caller: payment;
//! amounts are the order's, never a request's), and what a discount code takes off a cart
//! (caller: cart; the order service owns the codes and the one totals function).

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::ORDER;
use uuid::Uuid;

use crate::{CallError, call_json};

/// `GET /internal/orders/{id}`.
pub const ORDER_PATH: &str = "/internal/orders/{id}";

/// `POST /internal/discounts/quote`.
pub const DISCOUNT_QUOTE_PATH: &str = "/internal/discounts/quote";

/// A cart line to price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub sku: String,
    pub quantity: i64,
    /// Gross, current.
    pub unit_price_minor: i64,
}

/// What a code would take off these lines for this shopper (a guest: no user).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub code: String,
    pub user_id: Option<Uuid>,
    pub lines: Vec<QuoteLine>,
}

/// The answer: the code as stored (upper case) and its discount, or why it does not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub code: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    /// Subtotal minus discount (shipping and tax come with the address, at checkout).
    pub total_minor: i64,
    /// Why the code does not apply (then the discount is 0); `None` when it does.
    pub refusal: Option<String>,
}

/// An order as payment needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: Uuid,
    pub user_id: Uuid,
    pub number: String,
    /// `awaiting_payment`, `paid`, …
    pub status: String,
    pub total_minor: i64,
    pub currency: String,
}

/// Calls the order service.
#[derive(Clone)]
pub struct OrderClient {
    client: InternalClient,
}

impl OrderClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// What `request`'s code takes off its lines.
    pub async fn quote(&self, request: &QuoteRequest, on_behalf: &Subject) -> Result<Quote, CallError> {
        let call = self.client.request(Method::POST, ORDER, DISCOUNT_QUOTE_PATH, on_behalf).json(request);
        call_json(ORDER, call).await
    }

    /// The order `id`; `None` when there is none.
    pub async fn order(&self, id: Uuid) -> Result<Option<OrderSummary>, CallError> {
        let path = ORDER_PATH.replace("{id}", &id.to_string());
        match call_json(ORDER, self.client.request(Method::GET, ORDER, &path, &Subject::anonymous())).await {
            Ok(order) => Ok(Some(order)),
            Err(CallError::Status { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => Ok(None),
            Err(other) => Err(other),
        }
    }
}
