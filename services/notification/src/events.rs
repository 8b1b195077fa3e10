//! What the notification service consumes and emits: it consumes auth's stream (verification
//! and reset requests, password changes) and the order's (ORDER_PAID: the receipt;
//! ORDER_SHIPPED: tracking; ORDER_CANCELLED, ORDER_EXPIRED, ORDER_REFUNDED) and records the
//! messages each event asks for, inside the consumer's transaction; it emits nothing. Order
//! messages always go by email (they are transactional), and also by SMS (a phone on file) and
//! push (each registered device) when the shopper's preferences ask for them (the user service's
//! contact read).

use contracts::types::Amount;
use std::sync::Arc;

use contracts::auth::AuthClient;
use contracts::user::UserClient;
use events::Event;
use events::catalog::{
    AuthEvent, EmailChangeRequested, EmailVerificationRequested, OrderCancelled, OrderEvent, OrderExpired, OrderPaid,
    OrderRefunded, OrderShipped, PasswordChanged, PasswordResetRequested, SecondFactorChanged, StaffInvited,
    UserDeleted, UserEmailChanged,
};
use events::consumer::HandleFuture;
use events::{Envelope, Handled, Handler, HandlerError};
use sqlx::PgConnection;

use crate::domain::SmsLimits;
use crate::domain::{Kind, Templates};
use crate::store::{self, Channel, NewMessage};

/// The streams this service consumes.
pub(crate) const CONSUMES: &[&str] = &[AuthEvent::DOMAIN, OrderEvent::DOMAIN];

/// A message an event asks for.
struct Wanted {
    kind: Kind,
    /// The email address it goes to.
    email: String,
    context: serde_json::Value,
    /// The shopper an order message is about (their preferences may add an SMS).
    shopper: Option<uuid::Uuid>,
    /// Whether the message may go by SMS too (not for what the shopper did themselves, such
    /// as cancelling: an SMS per cancellation would let anyone pump texts).
    texts: bool,
    /// The account the message is about (kept with it, so a deleted account's messages are
    /// found whatever address or phone they went to).
    account: uuid::Uuid,
}

impl Wanted {
    fn email(kind: Kind, email: &str, account: uuid::Uuid, context: serde_json::Value) -> Self {
        Self { kind, email: email.to_owned(), context, shopper: None, texts: false, account }
    }

    fn order(kind: Kind, email: &str, shopper: uuid::Uuid, context: serde_json::Value) -> Self {
        Self { kind, email: email.to_owned(), context, shopper: Some(shopper), texts: true, account: shopper }
    }

    fn without_texts(self) -> Self {
        Self { texts: false, ..self }
    }
}

/// Turns auth's and the order's events into recorded messages.
pub(crate) struct Notifier {
    templates: Arc<Templates>,
    storefront_url: String,
    /// Where the one-time tokens of links come from (events carry only a reference).
    auth: AuthClient,
    /// Where a shopper's phone and preferences come from.
    users: UserClient,
    /// The daily SMS quotas.
    sms_limits: SmsLimits,
}

impl Notifier {
    pub(crate) fn new(
        templates: Arc<Templates>,
        storefront_url: String,
        auth: AuthClient,
        users: UserClient,
        sms_limits: SmsLimits,
    ) -> Self {
        Self { templates, storefront_url, auth, users, sms_limits }
    }

    /// The token behind a reference; `None` when it is already used or expired (no email then).
    async fn token(&self, token_ref: uuid::Uuid) -> Result<Option<String>, HandlerError> {
        self.auth.one_time_token(token_ref).await.map_err(HandlerError::new)
    }

    /// The message an order event asks for, if any.
    fn order_message(event: &Envelope) -> Result<Option<Wanted>, HandlerError> {
        use crate::domain::money;
        Ok(match OrderEvent::decode(event)? {
            Some(OrderEvent::OrderPaid(paid)) => {
                let money = |amount: Amount| money(amount, paid.currency);
                let lines: Vec<serde_json::Value> = paid
                    .lines
                    .iter()
                    .map(|l| serde_json::json!({"title": l.title, "quantity": l.quantity, "amount": l.unit_price_minor.times(l.quantity).map(money).ok()}))
                    .collect();
                let context = serde_json::json!({
                    "number": paid.number, "email": paid.email, "lines": lines, "ship_to": paid.ship_to,
                    "subtotal": money(paid.subtotal_minor),
                    "discount": (paid.discount_minor > Amount::ZERO).then(|| money(paid.discount_minor)),
                    "shipping": money(paid.shipping_minor), "tax": money(paid.tax_minor), "total": money(paid.total_minor),
                });
                Some(Wanted::order(Kind::OrderReceipt, &paid.email, paid.user_id.into(), context))
            }
            Some(OrderEvent::OrderShipped(e)) => {
                let lines: Vec<serde_json::Value> =
                    e.lines.iter().map(|l| serde_json::json!({"title": l.title, "quantity": l.quantity})).collect();
                let context = serde_json::json!({
                    "number": e.number, "carrier": e.carrier, "tracking_number": e.tracking_number,
                    "tracking_url": e.tracking_url, "lines": lines, "complete": e.complete,
                });
                Some(Wanted::order(Kind::OrderShipped, &e.email, e.user_id.into(), context))
            }
            Some(OrderEvent::OrderCancelled(e)) => {
                let context = serde_json::json!({"number": e.number, "reason": e.reason, "was_paid": e.was_paid});
                let wanted = Wanted::order(Kind::OrderCancelled, &e.email, e.user_id.into(), context);
                // The shopper cancelled it: they know, and an SMS each time is a pump.
                Some(if e.by == events::catalog::CancelledBy::Shopper { wanted.without_texts() } else { wanted })
            }
            Some(OrderEvent::OrderExpired(e)) => Some(Wanted::order(
                Kind::OrderExpired,
                &e.email,
                e.user_id.into(),
                serde_json::json!({"number": e.number}),
            )),
            Some(OrderEvent::OrderRefunded(e)) => {
                let context = serde_json::json!({
                    "number": e.number, "amount": money(e.amount_minor, e.currency),
                    "refunded": money(e.refunded_minor, e.currency), "reason": e.reason,
                });
                Some(Wanted::order(Kind::OrderRefunded, &e.email, e.user_id.into(), context))
            }
            _ => None,
        })
    }

    /// The message an event asks for, if any.
    async fn message_for(&self, event: &Envelope) -> Result<Option<Wanted>, HandlerError> {
        if let Some(wanted) = Self::order_message(event)? {
            return Ok(Some(wanted));
        }
        let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
        Ok(match AuthEvent::decode(event)? {
            Some(AuthEvent::EmailVerificationRequested(e)) => {
                let Some(token) = self.token(e.token_ref).await? else { return Ok(None) };
                let link = format!("{}/verify-email?token={token}", self.storefront_url);
                let context = serde_json::json!({"email": e.email, "link": link, "expires_at": when(e.expires_at)});
                Some(Wanted::email(Kind::VerifyEmail, &e.email, e.user_id.into(), context))
            }
            Some(AuthEvent::PasswordResetRequested(e)) => {
                let Some(token) = self.token(e.token_ref).await? else { return Ok(None) };
                let link = format!("{}/reset-password?token={token}", self.storefront_url);
                let context = serde_json::json!({"email": e.email, "link": link, "expires_at": when(e.expires_at)});
                Some(Wanted::email(Kind::PasswordReset, &e.email, e.user_id.into(), context))
            }
            Some(AuthEvent::StaffInvited(e)) => {
                let Some(token) = self.token(e.token_ref).await? else { return Ok(None) };
                let link = format!("{}/staff/accept?token={token}", self.storefront_url);
                let role = e.role.replace('_', " ");
                let context =
                    serde_json::json!({"email": e.email, "role": role, "link": link, "expires_at": when(e.expires_at)});
                Some(Wanted::email(Kind::StaffInvite, &e.email, e.user_id.into(), context))
            }
            Some(AuthEvent::EmailChangeRequested(e)) => {
                let Some(token) = self.token(e.token_ref).await? else { return Ok(None) };
                let link = format!("{}/confirm-email?token={token}", self.storefront_url);
                let context = serde_json::json!({"email": e.email, "old_email": e.old_email, "link": link,
                    "expires_at": when(e.expires_at)});
                Some(Wanted::email(Kind::EmailChange, &e.email, e.user_id.into(), context))
            }
            Some(AuthEvent::UserEmailChanged(e)) => {
                let context = serde_json::json!({"email": e.old_email, "new_email": e.new_email});
                Some(Wanted::email(Kind::EmailChanged, &e.old_email, e.user_id.into(), context))
            }
            Some(AuthEvent::SecondFactorChanged(e)) => Some(Wanted::email(
                Kind::SecondFactorChanged,
                &e.email,
                e.user_id.into(),
                serde_json::json!({"email": e.email}),
            )),
            Some(AuthEvent::PasswordChanged(e)) => Some(Wanted::email(
                Kind::PasswordChanged,
                &e.email,
                e.user_id.into(),
                serde_json::json!({"email": e.email}),
            )),
            _ => None,
        })
    }
}

/// The domain of the placeholder address a deleted account's records carry: never written to.
const DELETED_ACCOUNT_DOMAIN: &str = "@deleted.invalid";

/// The event types that ask for a message.
const WANTED: &[&str] = &[
    <EmailVerificationRequested as Event>::TYPE,
    <PasswordResetRequested as Event>::TYPE,
    <PasswordChanged as Event>::TYPE,
    <SecondFactorChanged as Event>::TYPE,
    <StaffInvited as Event>::TYPE,
    <EmailChangeRequested as Event>::TYPE,
    <UserEmailChanged as Event>::TYPE,
    <UserDeleted as Event>::TYPE,
    <OrderPaid as Event>::TYPE,
    <OrderShipped as Event>::TYPE,
    <OrderCancelled as Event>::TYPE,
    <OrderExpired as Event>::TYPE,
    <OrderRefunded as Event>::TYPE,
];

impl Handler for Notifier {
    fn wants(&self, event_type: &str) -> bool {
        WANTED.contains(&event_type)
    }
    fn handle<'a>(&'a self, tx: &'a mut PgConnection, event: &'a Envelope) -> HandleFuture<'a> {
        Box::pin(async move {
            if let Some(AuthEvent::UserDeleted(e)) = AuthEvent::decode(event)? {
                // The person's messages keep their record (kind, status, time) without the
                // address or the bodies.
                let erased = store::erase_account(tx, e.user_id.into(), &e.email).await?;
                store::forget_phones(tx, e.user_id.into()).await?;
                tracing::info!(erased, "a deleted account's messages anonymised");
                return Ok(Handled::Applied);
            }
            let Some(wanted) = self.message_for(event).await? else {
                return Ok(Handled::Ignored);
            };
            let Wanted { kind, email, context, shopper, texts, account } = wanted;
            if email.ends_with(DELETED_ACCOUNT_DOMAIN) {
                // A deleted account's placeholder address (an order anonymised after it ended).
                return Ok(Handled::Ignored);
            }
            let rendered = self.templates.render(kind, &context).map_err(HandlerError::new)?;
            let message =
                NewMessage { event_id: event.id, kind, channel: Channel::Email, recipient: email, rendered, account };
            let created = store::insert_message(tx, &message).await?;
            tracing::info!(kind = kind.as_str(), created, "message recorded");
            // The shopper's preferences may ask for an SMS and pushes too (read now; an
            // unreachable user service fails the event, which is retried with nothing recorded
            // twice).
            if let Some(user_id) = shopper.filter(|_| kind.has_short_text())
                && let Some(contact) = self.users.contact(user_id).await.map_err(HandlerError::new)?
            {
                let mut short: Vec<(Channel, String)> = Vec::new();
                // An SMS only to a number this account verified, within the daily quotas.
                if let Some(phone) = contact.phone.filter(|_| contact.notify_sms && texts) {
                    if !store::phone_verified(tx, user_id, &phone).await? {
                        tracing::info!(kind = kind.as_str(), "no SMS: the shopper's number is not verified");
                    } else if !store::sms_within_quota(tx, account, &phone, &self.sms_limits).await? {
                        tracing::warn!(kind = kind.as_str(), "no SMS: the daily SMS quota is used up");
                    } else {
                        short.push((Channel::Sms, phone));
                    }
                }
                if contact.notify_push {
                    short.extend(contact.push_tokens.into_iter().map(|token| (Channel::Push, token)));
                }
                for (channel, recipient) in short {
                    let rendered = self.templates.render_short(kind, &context).map_err(HandlerError::new)?;
                    store::insert_message(
                        tx,
                        &NewMessage { event_id: event.id, kind, channel, recipient, rendered, account },
                    )
                    .await?;
                }
            }
            Ok(Handled::Applied)
        })
    }
}
