//! The order service's internal contract (caller: payment): what an order costs and whose it is.
//! Amounts are the order's, never a request's.

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::ORDER;
use uuid::Uuid;

use crate::{CallError, call_json};

/// `GET /internal/orders/{id}`.
pub const ORDER_PATH: &str = "/internal/orders/{id}";

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
