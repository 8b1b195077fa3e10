//! The payment service's internal contract for the back office (caller: admin, with the staff
//! member's identity: payment checks `orders:read` itself): an order's payment with its refunds.

use chrono::{DateTime, Utc};
use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::PAYMENT;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::types::{Amount, Currency, PaymentId, PaymentStatus, RefundId, RefundStatus};
use crate::{CallError, call_json_relayed};

/// `GET /internal/orders/{order_id}/payment`.
pub const ORDER_PAYMENT_PATH: &str = "/internal/orders/{order_id}/payment";

/// A refund of a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefundRecord {
    pub refund_id: RefundId,
    pub amount_minor: Amount,
    pub reason: String,
    pub status: RefundStatus,
    /// Made by the service itself (a success after the order ended).
    pub automatic: bool,
    /// A staff member's id, or `system`.
    pub requested_by: String,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An order's payment as staff see it (never the client secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentRecord {
    pub payment_id: PaymentId,
    pub provider: String,
    pub status: PaymentStatus,
    pub amount_minor: Amount,
    pub currency: Currency,
    pub refunded_minor: Amount,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first.
    pub refunds: Vec<RefundRecord>,
}

/// An order's payment, if one was started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderPayment {
    pub payment: Option<PaymentRecord>,
}

/// Calls the payment service.
#[derive(Clone)]
pub struct PaymentClient {
    client: InternalClient,
}

impl PaymentClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The payment of `order_id` with its refunds, as `staff`.
    pub async fn for_order(&self, staff: &Subject, order_id: Uuid) -> Result<Option<PaymentRecord>, CallError> {
        let path = ORDER_PAYMENT_PATH.replace("{order_id}", &order_id.to_string());
        let answer: OrderPayment =
            call_json_relayed(PAYMENT, self.client.request(Method::GET, PAYMENT, &path, staff)).await?;
        Ok(answer.payment)
    }
}
