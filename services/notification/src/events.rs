//! What the notification service consumes and emits: it consumes auth's stream (verification
//! and reset requests, password changes) and the order's (ORDER_PAID: the receipt; ORDER_SHIPPED: tracking) and records
//! the message each event asks for, inside the consumer's transaction; it emits nothing.

use std::sync::Arc;

use contracts::auth::AuthClient;
use events::catalog::{AuthEvent, OrderEvent};
use events::consumer::HandleFuture;
use events::{Envelope, Handled, Handler, HandlerError};
use sqlx::PgConnection;

use crate::domain::{Kind, Templates};
use crate::store::{self, Channel, NewMessage};

/// The streams this service consumes.
pub const CONSUMES: &[&str] = &[AuthEvent::DOMAIN, OrderEvent::DOMAIN];

/// Turns auth's events into recorded messages.
pub struct Notifier {
    templates: Arc<Templates>,
    storefront_url: String,
    /// Where the one-time tokens of links come from (events carry only a reference).
    auth: AuthClient,
}

impl Notifier {
    pub fn new(templates: Arc<Templates>, storefront_url: String, auth: AuthClient) -> Self {
        Self { templates, storefront_url, auth }
    }

    /// The token behind a reference; `None` when it is already used or expired (no email then).
    async fn token(&self, token_ref: uuid::Uuid) -> Result<Option<String>, HandlerError> {
        self.auth.one_time_token(token_ref).await.map_err(HandlerError::new)
    }

    /// The message an event asks for, if any: (kind, recipient, template context).
    async fn message_for(&self, event: &Envelope) -> Result<Option<(Kind, String, serde_json::Value)>, HandlerError> {
        if let Some(OrderEvent::OrderPaid(paid)) = OrderEvent::decode(event)? {
            let money = |minor: i64| crate::domain::money(minor, &paid.currency);
            let lines: Vec<serde_json::Value> = paid
                .lines
                .iter()
                .map(|l| serde_json::json!({"title": l.title, "quantity": l.quantity, "amount": money(l.unit_price_minor * l.quantity)}))
                .collect();
            let context = serde_json::json!({
                "number": paid.number, "email": paid.email, "lines": lines,
                "subtotal": money(paid.subtotal_minor),
                "discount": (paid.discount_minor > 0).then(|| money(paid.discount_minor)),
                "shipping": money(paid.shipping_minor), "tax": money(paid.tax_minor), "total": money(paid.total_minor),
            });
            return Ok(Some((Kind::OrderReceipt, paid.email.clone(), context)));
        }
        if let Some(OrderEvent::OrderShipped(shipped)) = OrderEvent::decode(event)? {
            let context = serde_json::json!({
                "number": shipped.number, "carrier": shipped.carrier, "tracking_number": shipped.tracking_number,
            });
            return Ok(Some((Kind::OrderShipped, shipped.email.clone(), context)));
        }
        let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
        Ok(match AuthEvent::decode(event)? {
            Some(AuthEvent::EmailVerificationRequested(e)) => {
                let Some(token) = self.token(e.token_ref).await? else { return Ok(None) };
                let link = format!("{}/verify-email?token={token}", self.storefront_url);
                Some((
                    Kind::VerifyEmail,
                    e.email.clone(),
                    serde_json::json!({"email": e.email, "link": link, "expires_at": when(e.expires_at)}),
                ))
            }
            Some(AuthEvent::PasswordResetRequested(e)) => {
                let Some(token) = self.token(e.token_ref).await? else { return Ok(None) };
                let link = format!("{}/reset-password?token={token}", self.storefront_url);
                Some((
                    Kind::PasswordReset,
                    e.email.clone(),
                    serde_json::json!({"email": e.email, "link": link, "expires_at": when(e.expires_at)}),
                ))
            }
            Some(AuthEvent::SecondFactorChanged(e)) => {
                Some((Kind::SecondFactorChanged, e.email.clone(), serde_json::json!({"email": e.email})))
            }
            Some(AuthEvent::PasswordChanged(e)) => {
                Some((Kind::PasswordChanged, e.email.clone(), serde_json::json!({"email": e.email})))
            }
            _ => None,
        })
    }
}

impl Handler for Notifier {
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            let Some((kind, recipient, context)) = self.message_for(event).await? else {
                return Ok(Handled::Ignored);
            };
            let rendered = self.templates.render(kind, &context).map_err(HandlerError::new)?;
            let message = NewMessage { event_id: event.id, kind, channel: Channel::Email, recipient, rendered };
            let created = store::insert_message(tx, &message).await?;
            tracing::info!(kind = kind.as_str(), created, "message recorded");
            Ok(Handled::Applied)
        })
    }
}
