//! The order service's internal contract: what an order costs and whose it is (caller: payment;
//! amounts are the order's, never a request's), and what a discount code takes off a cart
//! (caller: cart; the order service owns the codes and the one totals function), and orders as
//! the back office reads them (caller: admin, with the staff member's identity: the order
//! service checks `orders:read` itself).

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::ORDER;
use uuid::Uuid;

use crate::types::{Amount, Currency, OrderId, OrderStatus, Quantity, Sku, UserId};
use crate::{CallError, call_json, call_json_relayed, query_value};

/// `GET /internal/orders/{id}`.
pub const ORDER_PATH: &str = "/internal/orders/{id}";

/// `POST /internal/orders/{id}/payment-started`: a payment is being started; an order awaiting
/// payment has its deadline moved from the short unpaid hold to the payment window. Answers
/// the order as `ORDER_PATH` does.
pub const PAYMENT_STARTED_PATH: &str = "/internal/orders/{id}/payment-started";

/// `GET /internal/staff/orders?user_id=&status=&limit=&cursor=`: what `GET /orders/all` answers.
pub const STAFF_ORDERS_PATH: &str = "/internal/staff/orders";

/// `GET /internal/orders/{id}/detail`: an order with its timeline.
pub const ORDER_DETAIL_PATH: &str = "/internal/orders/{id}/detail";

/// `GET /internal/export/orders`: every order of the shopper the call is made for (caller: user,
/// assembling the shopper's data export).
pub const EXPORT_ORDERS_PATH: &str = "/internal/export/orders";

/// `POST /internal/discounts/quote`.
pub const DISCOUNT_QUOTE_PATH: &str = "/internal/discounts/quote";

/// `POST /internal/shipping/offers`: the shipping methods that ship a cart to a country, each
/// priced (caller: cart).
pub const SHIPPING_OFFERS_PATH: &str = "/internal/shipping/offers";

/// A cart line to price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub sku: Sku,
    pub quantity: Quantity,
    /// Gross, current.
    pub unit_price_minor: Amount,
    /// Its VAT class (`standard` when left out).
    #[serde(default = "standard_class")]
    pub tax_class: String,
}

fn standard_class() -> String {
    "standard".to_owned()
}

/// What a code would take off these lines for this shopper (a guest: no user).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub code: String,
    pub user_id: Option<UserId>,
    pub lines: Vec<QuoteLine>,
}

/// The answer: the code as stored (upper case) and its discount, or why it does not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub code: String,
    pub subtotal_minor: Amount,
    pub discount_minor: Amount,
    /// Subtotal minus discount (shipping and tax come with the address, at checkout).
    pub total_minor: Amount,
    /// Why the code does not apply (then the discount is 0); `None` when it does.
    pub refusal: Option<String>,
}

/// What ships these lines (weighing `weight_grams` together, with the cart's discount code, if
/// any, for this shopper) to `country`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffersRequest {
    pub country: String,
    pub lines: Vec<QuoteLine>,
    pub weight_grams: i64,
    pub code: Option<String>,
    pub user_id: Option<UserId>,
}

/// A shipping method that ships a cart, with its price for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShippingOffer {
    pub id: Uuid,
    pub name: String,
    pub carrier: String,
    /// The delivery estimate, in days.
    pub min_days: i32,
    pub max_days: i32,
    /// Gross, for this cart (after its discount, so free-shipping thresholds count it).
    pub price_minor: Amount,
    pub currency: Currency,
}

/// The answer: the methods in the order shoppers see them (none: nothing ships there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offers {
    pub items: Vec<ShippingOffer>,
}

/// An order as payment needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: OrderId,
    pub user_id: UserId,
    pub number: String,
    pub status: OrderStatus,
    pub total_minor: Amount,
    pub currency: Currency,
}

/// One step of an order's life: a state change, who made it and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    /// `None` for the order's creation.
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    /// A user id, `system` (expiry) or a service.
    pub actor: String,
    pub reason: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// An order as staff see it: the order (the body `GET /orders/{id}` answers its shopper), whose
/// it is, and its timeline, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderDetail {
    #[schema(value_type = Object)]
    pub order: serde_json::Value,
    pub user_id: UserId,
    pub timeline: Vec<Transition>,
}

/// A page of orders, newest first (each the body `GET /orders/{id}` answers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrdersPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
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

    /// The shipping methods that ship `request`'s lines to its country.
    pub async fn shipping_offers(&self, request: &OffersRequest) -> Result<Offers, CallError> {
        let call = self.client.request(Method::POST, ORDER, SHIPPING_OFFERS_PATH, &Subject::anonymous()).json(request);
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

    /// Tells the order service a payment is being started for the order (its deadline moves out
    /// to the payment window); the order as it is then, `None` when there is no such order.
    pub async fn payment_started(&self, id: Uuid) -> Result<Option<OrderSummary>, CallError> {
        let path = PAYMENT_STARTED_PATH.replace("{id}", &id.to_string());
        match call_json(ORDER, self.client.request(Method::POST, ORDER, &path, &Subject::anonymous())).await {
            Ok(order) => Ok(Some(order)),
            Err(CallError::Status { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// A customer's orders, as `staff` (the order service checks `orders:read`).
    pub async fn orders_of(
        &self,
        staff: &Subject,
        user_id: Uuid,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<OrdersPage, CallError> {
        let mut path = format!("{STAFF_ORDERS_PATH}?user_id={user_id}");
        for (name, value) in [("limit", limit), ("cursor", cursor)] {
            if let Some(value) = value {
                path.push_str(&format!("&{name}={}", query_value(value)));
            }
        }
        call_json_relayed(ORDER, self.client.request(Method::GET, ORDER, &path, staff)).await
    }

    /// An order with its timeline, as `staff`; `None` when there is none.
    pub async fn detail(&self, staff: &Subject, id: Uuid) -> Result<Option<OrderDetail>, CallError> {
        let path = ORDER_DETAIL_PATH.replace("{id}", &id.to_string());
        crate::found(call_json_relayed(ORDER, self.client.request(Method::GET, ORDER, &path, staff)).await)
    }

    /// Every order of `shopper` (the subject of the call), oldest first, for their data export.
    pub async fn export(&self, shopper: &Subject) -> Result<Vec<serde_json::Value>, CallError> {
        let page: OrdersPage =
            call_json(ORDER, self.client.request(Method::GET, ORDER, EXPORT_ORDERS_PATH, shopper)).await?;
        Ok(page.items)
    }
}
