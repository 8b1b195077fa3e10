//! Message templates (minijinja): a subject, a text and an HTML body per kind. HTML bodies are
//! auto-escaped, so a value like an email address cannot inject markup.

use contracts::types::{Amount, Currency, Money};
use minijinja::Environment;
use serde::Serialize;

/// What a message is about; each kind has its templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    VerifyEmail,
    PasswordReset,
    PasswordChanged,
    SecondFactorChanged,
    /// A staff member's invitation (set a password, enrol the second factor).
    StaffInvite,
    /// The link that confirms a new email address (sent to it).
    EmailChange,
    /// The notice to the old address once the email changed.
    EmailChanged,
    /// The receipt of a paid order.
    OrderReceipt,
    /// An order left with a carrier.
    OrderShipped,
    /// An unpaid order was cancelled.
    OrderCancelled,
    /// An unpaid order passed its payment deadline.
    OrderExpired,
    /// Money of an order went back.
    OrderRefunded,
    /// The one-time code that verifies a phone number (by SMS only).
    PhoneCode,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::SecondFactorChanged => "second_factor_changed",
            Self::StaffInvite => "staff_invite",
            Self::EmailChange => "email_change",
            Self::EmailChanged => "email_changed",
            Self::OrderReceipt => "order_receipt",
            Self::OrderShipped => "order_shipped",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderExpired => "order_expired",
            Self::OrderRefunded => "order_refunded",
            Self::PhoneCode => "phone_code",
        }
    }

    /// Whether the kind also has a short text for SMS and push (`<kind>.sms.txt`): the order
    /// messages, which go there when the shopper's preferences ask for it.
    pub fn has_short_text(self) -> bool {
        matches!(
            self,
            Self::OrderReceipt | Self::OrderShipped | Self::OrderCancelled | Self::OrderExpired | Self::OrderRefunded
        )
    }
}

/// The templates of each kind: subject, text and HTML, and for order kinds a short text.
macro_rules! sources {
    (full: [$($kind:literal),*], short: [$($short:literal),*]) => {
        [
            $(
                (concat!($kind, ".subject.txt"), include_str!(concat!("../templates/", $kind, ".subject.txt"))),
                (concat!($kind, ".txt"), include_str!(concat!("../templates/", $kind, ".txt"))),
                (concat!($kind, ".html"), include_str!(concat!("../templates/", $kind, ".html"))),
            )*
            $((concat!($short, ".sms.txt"), include_str!(concat!("../templates/", $short, ".sms.txt"))),)*
        ]
    };
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        let sources = sources!(
            full: [
                "verify_email", "password_reset", "password_changed", "second_factor_changed", "staff_invite",
                "email_change", "email_changed",
                "order_receipt", "order_shipped", "order_cancelled", "order_expired", "order_refunded", "phone_code"
            ],
            short: ["order_receipt", "order_shipped", "order_cancelled", "order_expired", "order_refunded", "phone_code"]
        );
        for (name, source) in sources {
            env.add_template(name, source).expect("the built-in templates parse");
        }
        Self { env }
    }

    pub(crate) fn render(&self, kind: Kind, context: impl Serialize) -> Result<Rendered, minijinja::Error> {
        let context = minijinja::Value::from_serialize(&context);
        let render = |suffix: &str| self.env.get_template(&format!("{}.{suffix}", kind.as_str()))?.render(&context);
        Ok(Rendered { subject: render("subject.txt")?.trim().to_owned(), text: render("txt")?, html: render("html")? })
    }

    /// The short form of an order message (SMS, push): the subject and the short text, no HTML.
    pub(crate) fn render_short(&self, kind: Kind, context: impl Serialize) -> Result<Rendered, minijinja::Error> {
        let context = minijinja::Value::from_serialize(&context);
        let render = |suffix: &str| self.env.get_template(&format!("{}.{suffix}", kind.as_str()))?.render(&context);
        Ok(Rendered {
            subject: render("subject.txt")?.trim().to_owned(),
            text: render("sms.txt")?.trim().to_owned(),
            html: String::new(),
        })
    }
}

/// An amount in minor units as a receipt shows it: `24.90 EUR` (two decimals).
pub(crate) fn money(amount: Amount, currency: Currency) -> String {
    Money::new(amount, currency).to_string()
}

/// How many texts may go out (review f5592e3 M3): each number and each account gets at most so
/// many SMS a day, verification codes included; a code lives `code_ttl` and a new one may be
/// asked for only after `code_interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsLimits {
    pub per_recipient_day: i64,
    pub per_account_day: i64,
    pub code_ttl: std::time::Duration,
    pub code_interval: std::time::Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_lists_the_lines_and_totals_and_escapes_in_html() {
        let templates = Templates::new();
        let context = serde_json::json!({
            "number": "SF-000007", "email": "a@example.com", "total": money(5890.into(), Currency::EUR), "subtotal": money(5400.into(), Currency::EUR),
            "discount": null, "shipping": money(490.into(), Currency::EUR), "tax": money(862.into(), Currency::EUR),
            "lines": [{"title": "Mug <b>(300 ml)</b>", "quantity": 2, "amount": money(2800.into(), Currency::EUR)}]
        });
        let rendered = templates.render(Kind::OrderReceipt, &context).unwrap();
        assert_eq!(rendered.subject, "Your receipt for order SF-000007");
        assert!(rendered.text.contains("2 × Mug <b>(300 ml)</b>  28.00 EUR"), "{}", rendered.text);
        assert!(rendered.text.contains("Total:    58.90 EUR (VAT included: 8.62 EUR)"), "{}", rendered.text);
        assert!(rendered.html.contains("Mug &lt;b&gt;(300 ml)&lt;&#x2f;b&gt;"), "{}", rendered.html);
        assert_eq!(money(5.into(), Currency::EUR), "0.05 EUR");
        let shipped =
            serde_json::json!({"number": "SF-000007", "carrier": "DHL", "tracking_number": "0034", "complete": true});
        let rendered = templates.render(Kind::OrderShipped, &shipped).unwrap();
        assert!(rendered.subject.contains("SF-000007") && rendered.text.contains("Tracking number: 0034"));
        assert!(rendered.text.contains("your order SF-000007 is on its way with DHL."), "{}", rendered.text);
        let parcel = serde_json::json!({"number": "SF-000007", "carrier": "DHL", "tracking_number": "0035",
            "tracking_url": "https://track.example/0035", "complete": false, "lines": [{"title": "Mug", "quantity": 1}]});
        let rendered = templates.render(Kind::OrderShipped, &parcel).unwrap();
        assert!(rendered.text.contains("a parcel of your order SF-000007"), "{}", rendered.text);
        assert!(rendered.text.contains("1 × Mug") && rendered.text.contains("https://track.example/0035"));
        assert!(rendered.html.contains("<li>1 × Mug</li>"), "{}", rendered.html);
    }

    #[test]
    fn order_endings_and_refunds_render_in_full_and_short() {
        let templates = Templates::new();
        let context = serde_json::json!({
            "number": "SF-000009", "reason": "changed my mind", "amount": money(1990.into(), Currency::EUR),
            "refunded": money(1990.into(), Currency::EUR), "total": money(1990.into(), Currency::EUR),
            "carrier": "DHL", "tracking_number": "0034",
        });
        for kind in
            [Kind::OrderCancelled, Kind::OrderExpired, Kind::OrderRefunded, Kind::OrderReceipt, Kind::OrderShipped]
        {
            let full = templates.render(kind, &context).unwrap();
            assert!(full.subject.contains("SF-000009") && full.text.contains("SF-000009"), "{kind:?}");
            assert!(full.html.contains("SF-000009"), "{kind:?}");
            assert!(kind.has_short_text());
            let short = templates.render_short(kind, &context).unwrap();
            assert!(short.text.contains("SF-000009") && short.text.len() <= 160, "{kind:?}: {}", short.text);
        }
        let refund = templates.render(Kind::OrderRefunded, &context).unwrap();
        assert!(refund.text.contains("(changed my mind)") && refund.subject.contains("19.90 EUR"));
        let unpaid = templates.render(Kind::OrderCancelled, &context).unwrap();
        assert!(unpaid.text.contains("Nothing was charged"), "{}", unpaid.text);
        let mut paid_context = context.clone();
        paid_context["was_paid"] = serde_json::json!(true);
        let paid = templates.render(Kind::OrderCancelled, &paid_context).unwrap();
        assert!(paid.text.contains("refunded in full") && !paid.text.contains("Nothing was charged"), "{}", paid.text);
        assert!(!Kind::VerifyEmail.has_short_text());
    }

    #[test]
    fn every_kind_renders_a_subject_a_text_and_an_html_body() {
        let templates = Templates::new();
        let context =
            serde_json::json!({"email": "a@example.com", "link": "https://shop.example/x", "expires_at": "soon"});
        for kind in [
            Kind::VerifyEmail,
            Kind::PasswordReset,
            Kind::PasswordChanged,
            Kind::SecondFactorChanged,
            Kind::StaffInvite,
        ] {
            let rendered = templates.render(kind, &context).unwrap();
            assert!(!rendered.subject.is_empty() && rendered.text.contains("a@example.com"), "{kind:?}");
            assert!(rendered.html.contains("a@example.com"), "{kind:?}");
        }
    }

    #[test]
    fn every_kind_renders_its_link_into_text_and_html() {
        let templates = Templates::new();
        let context = serde_json::json!({"email": "a@example.com", "link": "https://shop.example/verify-email?token=abc", "expires_at": "tomorrow"});
        for kind in [Kind::VerifyEmail, Kind::PasswordReset, Kind::StaffInvite, Kind::EmailChange] {
            let rendered = templates.render(kind, &context).unwrap();
            assert!(!rendered.subject.is_empty());
            assert!(rendered.text.contains("https://shop.example/verify-email?token=abc"), "{kind:?}");
            // minijinja escapes `/` in HTML too; browsers decode entities in attributes.
            assert!(
                rendered.html.contains("href=\"https:&#x2f;&#x2f;shop.example&#x2f;verify-email?token=abc\""),
                "{}",
                rendered.html
            );
        }
        let changed = templates.render(Kind::PasswordChanged, &context).unwrap();
        assert!(changed.text.contains("a@example.com"));
    }

    #[test]
    fn html_bodies_escape_what_they_are_given() {
        let templates = Templates::new();
        let context = serde_json::json!({"email": "<script>x</script>@example.com", "link": "l", "expires_at": "t"});
        let rendered = templates.render(Kind::VerifyEmail, &context).unwrap();
        assert!(!rendered.html.contains("<script>"));
        assert!(rendered.html.contains("&lt;script&gt;"));
    }
}
