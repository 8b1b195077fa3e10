//! The auth service's internal contract: the JWKS access tokens are verified with (the gateway
//! fetches it; auth serves it at [`JWKS_PATH`]), the one-time token behind a reference (the
//! notification service fetches it to write an email's link; events carry only the reference),
//! and the accounts as the back office sees them (caller: admin, with the staff member's
//! identity, so auth checks `staff:write`, `customers:read` or `customers:write` itself).

use auth_jwt::Jwks;
use internal_token::Subject;
use reqwest::Method;
use service_kit::InternalClient;
use service_kit::fleet::AUTH;

use crate::types::UserId;
use crate::{CallError, call_json, call_json_relayed};

/// Where auth publishes its public signing keys.
pub const JWKS_PATH: &str = "/auth/.well-known/jwks.json";

/// Where the notification service fetches a one-time token by its reference.
pub const ONE_TIME_TOKEN_PATH: &str = "/internal/one-time-tokens/{token_ref}";

/// Staff accounts: `GET` lists them, `POST` invites one (a [`NewStaff`]).
pub const STAFF_PATH: &str = "/internal/staff";
/// An account by email: `GET /internal/accounts?email=`.
pub const ACCOUNTS_PATH: &str = "/internal/accounts";
/// One account by id.
pub const ACCOUNT_PATH: &str = "/internal/accounts/{id}";
/// `POST` with a [`Disable`]: no more sign-ins, every session ended.
pub const ACCOUNT_DISABLE_PATH: &str = "/internal/accounts/{id}/disable";
/// `POST`: sign-ins work again.
pub const ACCOUNT_ENABLE_PATH: &str = "/internal/accounts/{id}/enable";

/// An account as the back office sees it (never its password hash or second factor).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    /// `customer`, or a staff role (`admin`, `catalog_manager`, `order_manager`, `support`,
    /// `content_editor`).
    pub role: String,
    pub email_verified: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Set while the account is disabled.
    pub disabled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub disabled_reason: Option<String>,
}

/// A staff member to invite.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NewStaff {
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// A staff role: `admin`, `catalog_manager`, `order_manager`, `support` or `content_editor`.
    #[schema(example = "catalog_manager")]
    pub role: String,
}

/// An invited staff member: the account, and until when the emailed invitation works.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Invited {
    pub account: Account,
    pub invitation_expires_at: chrono::DateTime<chrono::Utc>,
}

/// Why an account is disabled (kept with it, shown to staff).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Disable {
    #[schema(example = "chargeback fraud")]
    pub reason: String,
}

/// Staff accounts, oldest first.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StaffList {
    pub items: Vec<Account>,
}

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

    /// Invites a staff member as `staff` (auth checks `staff:write`): the account and the
    /// emailed invitation. A taken email or a bad role comes back as auth's problem.
    pub async fn invite_staff(&self, staff: &Subject, new: &NewStaff) -> Result<Invited, CallError> {
        call_json_relayed(AUTH, self.client.request(Method::POST, AUTH, STAFF_PATH, staff).json(new)).await
    }

    /// Every staff account, as `staff` (auth checks `staff:write`).
    pub async fn staff(&self, staff: &Subject) -> Result<Vec<Account>, CallError> {
        let list: StaffList =
            call_json_relayed(AUTH, self.client.request(Method::GET, AUTH, STAFF_PATH, staff)).await?;
        Ok(list.items)
    }

    /// The account with this email, as `staff` (auth checks `customers:read`).
    pub async fn account_by_email(&self, staff: &Subject, email: &str) -> Result<Option<Account>, CallError> {
        let path = format!("{ACCOUNTS_PATH}?email={}", crate::query_value(email));
        crate::found(call_json_relayed(AUTH, self.client.request(Method::GET, AUTH, &path, staff)).await)
    }

    /// The account with this id, as `staff` (auth checks `customers:read`).
    pub async fn account(&self, staff: &Subject, id: uuid::Uuid) -> Result<Option<Account>, CallError> {
        let path = ACCOUNT_PATH.replace("{id}", &id.to_string());
        crate::found(call_json_relayed(AUTH, self.client.request(Method::GET, AUTH, &path, staff)).await)
    }

    /// Disables an account, as `staff`: no more sign-ins, every session ended.
    pub async fn disable(&self, staff: &Subject, id: uuid::Uuid, reason: &str) -> Result<Account, CallError> {
        let path = ACCOUNT_DISABLE_PATH.replace("{id}", &id.to_string());
        let body = Disable { reason: reason.to_owned() };
        call_json_relayed(AUTH, self.client.request(Method::POST, AUTH, &path, staff).json(&body)).await
    }

    /// Lets a disabled account sign in again, as `staff`.
    pub async fn enable(&self, staff: &Subject, id: uuid::Uuid) -> Result<Account, CallError> {
        let path = ACCOUNT_ENABLE_PATH.replace("{id}", &id.to_string());
        call_json_relayed(AUTH, self.client.request(Method::POST, AUTH, &path, staff)).await
    }

    /// The keys that verify access tokens now.
    pub async fn jwks(&self) -> Result<Jwks, CallError> {
        call_json(AUTH, self.client.request(Method::GET, AUTH, JWKS_PATH, &Subject::anonymous())).await
    }
}
