//! The user service's internal contract (callers: order and notification): a shopper's address
//! by id (only that shopper's) and their contact details and notification preferences.

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::USER;
use uuid::Uuid;

use crate::types::UserId;
use crate::{CallError, call_json};

/// The field rules of addresses and contacts (`user_rules.rs`).
#[path = "user_rules.rs"]
pub mod rules;

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

impl PostalAddress {
    /// The address with every field trimmed and checked by the address book's rules (lengths,
    /// no control characters, the country code, the phone in E.164), each invalid field named
    /// `<prefix>.<field>` in `errors`; `None` when any is invalid.
    pub fn validated(&self, prefix: &str, errors: &mut service_kit::FieldErrors) -> Option<Self> {
        let named = |result: Result<String, service_kit::FieldError>| {
            result.map_err(|e| service_kit::FieldError::new(format!("{prefix}.{}", e.field), e.code, e.message))
        };
        let named_optional = |result: Result<Option<String>, service_kit::FieldError>| {
            result.map_err(|e| service_kit::FieldError::new(format!("{prefix}.{}", e.field), e.code, e.message))
        };
        let recipient_name = errors.check(named(rules::text("recipient_name", &self.recipient_name, 100)));
        let line1 = errors.check(named(rules::text("line1", &self.line1, 200)));
        let line2 = errors.check(named_optional(rules::optional_text("line2", self.line2.as_deref(), 200)));
        let city = errors.check(named(rules::text("city", &self.city, 100)));
        let region = errors.check(named_optional(rules::optional_text("region", self.region.as_deref(), 100)));
        let postal_code = errors.check(named(rules::text("postal_code", &self.postal_code, 16)));
        let country = errors.check(named(rules::country(&self.country)));
        let phone = errors.check(named_optional(rules::phone("phone", self.phone.as_deref())));
        Some(Self {
            recipient_name: recipient_name?,
            line1: line1?,
            line2: line2?,
            city: city?,
            region: region?,
            postal_code: postal_code?,
            country: country?,
            phone: phone?,
        })
    }
}

/// How to reach a shopper, and how they want to be told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub user_id: UserId,
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
