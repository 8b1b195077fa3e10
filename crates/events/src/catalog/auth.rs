//! The events of `events.auth`: accounts and their one-time tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use shop_types::UserId;
use uuid::Uuid;

/// A new account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserRegistered {
    pub user_id: UserId,
    pub email: String,
}

/// An email address must be confirmed: send the link. The one-time token itself never travels
/// in an event (review M7): `token_ref` names it, and the notification service fetches it from
/// auth's internal API while it is unused and unexpired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EmailVerificationRequested {
    pub user_id: UserId,
    pub email: String,
    pub token_ref: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// The email address is confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserEmailVerified {
    pub user_id: UserId,
    pub email: String,
}

/// Someone asked to reset the password of an existing account: send the link (its token by
/// reference, as for [`EmailVerificationRequested`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: UserId,
    pub email: String,
    pub token_ref: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// The password was changed through a reset; a notice goes to the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PasswordChanged {
    pub user_id: UserId,
    pub email: String,
}

/// An administrator's second factor was replaced; a notice goes to the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SecondFactorChanged {
    pub user_id: UserId,
    pub email: String,
}

/// A staff member was invited: send the link that sets the password and enrols the second
/// factor (its token by reference, as for [`EmailVerificationRequested`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StaffInvited {
    pub user_id: UserId,
    pub email: String,
    /// The staff role, e.g. `catalog_manager`.
    pub role: String,
    pub token_ref: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// A signed-in account asked to change its email: send the confirmation link to the new
/// address (its token by reference). The change takes effect only when the link is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EmailChangeRequested {
    pub user_id: UserId,
    /// The new address, where the link goes.
    pub email: String,
    pub old_email: String,
    pub token_ref: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// The account's email changed (the new address is verified); the old address is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserEmailChanged {
    pub user_id: UserId,
    pub old_email: String,
    pub new_email: String,
}

/// The owner deleted the account: every service erases or anonymises what it holds about the
/// person (`email` is the address it had, for the services that keep messages by address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserDeleted {
    pub user_id: UserId,
    pub email: String,
}

crate::stream! {
    /// The events of `events.auth`.
    pub enum AuthEvent in "auth" {
        UserRegistered = ("USER_REGISTERED", 1, aggregate = user_id),
        EmailVerificationRequested = ("EMAIL_VERIFICATION_REQUESTED", 2, aggregate = user_id),
        UserEmailVerified = ("USER_EMAIL_VERIFIED", 1, aggregate = user_id),
        PasswordResetRequested = ("PASSWORD_RESET_REQUESTED", 2, aggregate = user_id),
        PasswordChanged = ("PASSWORD_CHANGED", 1, aggregate = user_id),
        SecondFactorChanged = ("SECOND_FACTOR_CHANGED", 1, aggregate = user_id),
        StaffInvited = ("STAFF_INVITED", 1, aggregate = user_id),
        EmailChangeRequested = ("EMAIL_CHANGE_REQUESTED", 1, aggregate = user_id),
        UserEmailChanged = ("USER_EMAIL_CHANGED", 1, aggregate = user_id),
        UserDeleted = ("USER_DELETED", 1, aggregate = user_id),
    }
}
