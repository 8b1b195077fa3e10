//! The user service's internal contract (callers: order and notification): a shopper's address
//! by id (only that shopper's) and their contact details and notification preferences.

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::USER;
use uuid::Uuid;

use crate::{CallError, call_json};

/// `GET /internal/users/{user_id}/addresses/{address_id}`: 404 unless the address is theirs.
pub const ADDRESS_PATH: &str = "/internal/users/{user_id}/addresses/{address_id}";
/// `GET /internal/users/{user_id}/contact`.
pub const CONTACT_PATH: &str = "/internal/users/{user_id}/contact";

/// A postal address, as an order snapshots it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub recipient_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
}

/// How to reach a shopper, and how they want to be told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub locale: String,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub notify_push: bool,
    /// The push registration tokens of the shopper's devices, newest first.
    #[serde(default)]
    pub push_tokens: Vec<String>,
}

/// Calls the user service.
#[derive(Clone)]
pub struct UserClient {
    client: InternalClient,
}

fn not_found_is_none<T>(result: Result<T, CallError>) -> Result<Option<T>, CallError> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(CallError::Status { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => Ok(None),
        Err(other) => Err(other),
    }
}

impl UserClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The address `address_id` of `user_id`; `None` when it is not theirs (or does not exist).
    pub async fn address(&self, user_id: Uuid, address_id: Uuid) -> Result<Option<PostalAddress>, CallError> {
        let path =
            ADDRESS_PATH.replace("{user_id}", &user_id.to_string()).replace("{address_id}", &address_id.to_string());
        not_found_is_none(call_json(USER, self.client.request(Method::GET, USER, &path, &Subject::anonymous())).await)
    }

    /// The contact details of `user_id`; `None` when no profile exists.
    pub async fn contact(&self, user_id: Uuid) -> Result<Option<Contact>, CallError> {
        let path = CONTACT_PATH.replace("{user_id}", &user_id.to_string());
        not_found_is_none(call_json(USER, self.client.request(Method::GET, USER, &path, &Subject::anonymous())).await)
    }
}
