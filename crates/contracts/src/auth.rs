//! The auth service's internal contract: the JWKS access tokens are verified with (the gateway
//! fetches it; auth serves it at [`JWKS_PATH`]).

use auth_jwt::Jwks;
use internal_token::Subject;
use reqwest::Method;
use service_kit::InternalClient;
use service_kit::fleet::AUTH;

use crate::{CallError, call_json};

/// Where auth publishes its public signing keys.
pub const JWKS_PATH: &str = "/auth/.well-known/jwks.json";

/// Calls the auth service.
#[derive(Clone)]
pub struct AuthClient {
    client: InternalClient,
}

impl AuthClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The keys that verify access tokens now.
    pub async fn jwks(&self) -> Result<Jwks, CallError> {
        call_json(AUTH, self.client.request(Method::GET, AUTH, JWKS_PATH, &Subject::anonymous())).await
    }
}
