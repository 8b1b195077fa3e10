//! The notification service's use cases, between the routes (HTTP), the event handlers and the
//! store (SQL): verifying a phone number (`phone`) and delivering messages (`sender`), neither
//! holding a transaction across a call to another service or a transport.

pub(crate) mod phone;
pub(crate) mod sender;

use sqlx::PgPool;

/// What the routes and use cases read.
#[derive(Clone)]
pub(crate) struct AppState {
    pub pool: PgPool,
    /// Where the shopper's phone number comes from.
    pub users: contracts::user::UserClient,
    pub templates: std::sync::Arc<crate::domain::Templates>,
    pub sms_limits: crate::domain::SmsLimits,
}
