//! The cart service's internal contract (caller: the order service): a signed-in shopper's cart
//! as stored. Prices here are what the lines cost when added; the order takes current prices
//! from the product service, never these.

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::CART;
use uuid::Uuid;

use crate::types::{Amount, Quantity, Sku, UserId};
use crate::{CallError, call_json};

/// `GET /internal/carts/{user_id}`.
pub const USER_CART_PATH: &str = "/internal/carts/{user_id}";

/// One line as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
    pub price_at_add_minor: Amount,
}

/// A shopper's cart (empty when they have none).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserCart {
    pub user_id: UserId,
    pub lines: Vec<CartLine>,
    /// The discount code the shopper applied, if any (the order checks and counts it).
    #[serde(default)]
    pub discount_code: Option<String>,
    /// The shipping method the shopper chose, if any (the order checks that it ships the order).
    #[serde(default)]
    pub shipping_method_id: Option<Uuid>,
}

/// Calls the cart service.
#[derive(Clone)]
pub struct CartClient {
    client: InternalClient,
}

impl CartClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The cart of `user_id`.
    pub async fn user_cart(&self, user_id: Uuid) -> Result<UserCart, CallError> {
        let path = USER_CART_PATH.replace("{user_id}", &user_id.to_string());
        call_json(CART, self.client.request(Method::GET, CART, &path, &Subject::anonymous())).await
    }
}
