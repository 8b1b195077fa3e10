//! The auth service's internal contract: the JWKS access tokens are verified with (the gateway
//! fetches it; auth serves it at [`JWKS_PATH`]), and the one-time token behind a reference (the
//! notification service fetches it to write an email's link; events carry only the reference).

use auth_jwt::Jwks;
use internal_token::Subject;
use reqwest::Method;
use service_kit::InternalClient;
use service_kit::fleet::AUTH;

use crate::{CallError, call_json};

/// Where auth publishes its public signing keys.
pub const JWKS_PATH: &str = "/auth/.well-known/jwks.json";

/// Where the notification service fetches a one-time token by its reference.
pub const ONE_TIME_TOKEN_PATH: &str = "/internal/one-time-tokens/{token_ref}";

/// A one-time token, in clear: only ever on its way into an email.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct OneTimeToken {
    pub token: String,
}

/// Calls the auth service.
#[derive(Clone)]
pub struct AuthClient {
    client: InternalClient,
}

impl AuthClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The clear one-time token behind `token_ref`; `None` once it is used, voided or expired.
    pub async fn one_time_token(&self, token_ref: uuid::Uuid) -> Result<Option<String>, CallError> {
        let path = ONE_TIME_TOKEN_PATH.replace("{token_ref}", &token_ref.to_string());
        match call_json::<OneTimeToken>(AUTH, self.client.request(Method::GET, AUTH, &path, &Subject::anonymous()))
            .await
        {
            Ok(found) => Ok(Some(found.token)),
            Err(CallError::Status { status, .. }) if status.is_client_error() => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The keys that verify access tokens now.
    pub async fn jwks(&self) -> Result<Jwks, CallError> {
        call_json(AUTH, self.client.request(Method::GET, AUTH, JWKS_PATH, &Subject::anonymous())).await
    }
}
