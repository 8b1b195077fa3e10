//! The analytics service's pure rules: what a tracking event may hold, the reporting window
//! (`from`, `to`, `granularity`), what a domain event keeps when it is logged, and the CSV form
//! of a report. No HTTP, no SQL.

use chrono::{DateTime, Duration, Utc};
pub use contracts::analytics::{Granularity, Window};
use serde::{Deserialize, Serialize};
use service_kit::{FieldCode, FieldErrors};
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_BATCH: usize = 50;
/// How old an event may be when it arrives (a tab that was asleep), and how far ahead of our
/// clock a client's may run.
pub const MAX_AGE: Duration = Duration::hours(48);
pub const MAX_SKEW: Duration = Duration::minutes(10);

/// What a storefront reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    PageView,
    ProductView,
    Search,
    AddToCart,
    CheckoutStarted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PageView => "page_view",
            EventType::ProductView => "product_view",
            EventType::Search => "search",
            EventType::AddToCart => "add_to_cart",
            EventType::CheckoutStarted => "checkout_started",
        }
    }

    /// The funnel step this event is, if any.
    pub fn funnel_step(self) -> Option<&'static str> {
        matches!(self, EventType::ProductView | EventType::AddToCart | EventType::CheckoutStarted)
            .then(|| self.as_str())
    }
}

/// One tracking event as the storefront sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingEvent {
    #[serde(rename = "type")]
    pub kind: EventType,
    /// An anonymous id the storefront keeps per browser (8 to 64 of `A-Z a-z 0-9 - _`).
    pub visitor_id: String,
    /// The storefront's session id (same form).
    pub session_id: String,
    /// When it happened (at most 48 hours ago, at most 10 minutes ahead).
    pub occurred_at: DateTime<Utc>,
    /// The client's id for the event (a UUID), so a batch sent twice is kept once.
    pub event_id: Option<Uuid>,
    /// The storefront path (`page_view`).
    pub path: Option<String>,
    /// Required for `product_view`.
    pub product_id: Option<Uuid>,
    /// Required for `search`.
    pub query: Option<String>,
    /// Required for `add_to_cart`.
    pub sku: Option<String>,
}

fn is_client_id(value: &str) -> bool {
    (8..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn clean_text(value: &str, max: usize) -> bool {
    !value.trim().is_empty() && value.chars().count() <= max && !value.chars().any(char::is_control)
}

impl TrackingEvent {
    /// Every rule, each failure named `events[<index>].<field>`.
    pub fn check(&self, index: usize, now: DateTime<Utc>, errors: &mut FieldErrors) {
        let field = |name: &str| format!("events[{index}].{name}");
        for (name, value) in [("visitor_id", &self.visitor_id), ("session_id", &self.session_id)] {
            if !is_client_id(value) {
                errors.push(field(name), FieldCode::InvalidValue, "8 to 64 letters, digits, - or _");
            }
        }
        if self.occurred_at < now - MAX_AGE || self.occurred_at > now + MAX_SKEW {
            errors.push(field("occurred_at"), FieldCode::OutOfRange, "within the last 48 hours");
        }
        // The cap is on what is kept: the path without its query string (which is dropped).
        let bad_path = |path: &String| {
            let bare = path.split(['?', '#']).next().unwrap_or_default();
            !path.starts_with('/') || !clean_text(bare, MAX_PATH) || !clean_text(path, 2_000)
        };
        if self.path.as_ref().is_some_and(bad_path) {
            errors.push(field("path"), FieldCode::InvalidValue, "a path starting with /, at most 256 characters");
        }
        if self.query.as_ref().is_some_and(|query| !clean_text(query, MAX_QUERY)) {
            errors.push(field("query"), FieldCode::InvalidLength, "1 to 100 characters");
        }
        if self.sku.as_ref().is_some_and(|sku| !clean_text(sku, 64)) {
            errors.push(field("sku"), FieldCode::InvalidLength, "1 to 64 characters");
        }
        let required = match self.kind {
            EventType::ProductView => self.product_id.is_none().then_some("product_id"),
            EventType::Search => self.query.is_none().then_some("query"),
            EventType::AddToCart => self.sku.is_none().then_some("sku"),
            EventType::PageView => self.path.is_none().then_some("path"),
            EventType::CheckoutStarted => None,
        };
        if let Some(name) = required {
            errors.push(field(name), FieldCode::Required, format!("a {} event needs {name}", self.kind.as_str()));
        }
    }
}

/// The longest `path` (without its query string) and search `query` an event may carry. With
/// the ids (64 each) and a SKU (64), a stored event is under 1 KB with its index entry: what
/// the quotas' sizing counts on.
pub const MAX_PATH: usize = 256;
pub const MAX_QUERY: usize = 100;

/// The most bytes one stored tracking event takes, row and primary-key entry included (sized
/// from the caps above; a test checks real rows against it).
pub const MAX_EVENT_BYTES: i64 = 1_024;

impl TrackingEvent {
    /// What is kept of the event (review f5592e3 M5 and L7): the path without its query string
    /// or fragment and with any segment that holds an `@` (an email address) blanked, and a
    /// search query that looks like an email address blanked; nothing personal is stored.
    pub fn scrubbed(mut self) -> Self {
        if let Some(path) = self.path.take() {
            let bare = path.split(['?', '#']).next().unwrap_or("/");
            let segments: Vec<&str> =
                bare.split('/').map(|segment| if segment.contains('@') { "~" } else { segment }).collect();
            self.path = Some(segments.join("/"));
        }
        if let Some(query) = self.query.as_mut()
            && query.contains('@')
        {
            *query = "~".to_owned();
        }
        self
    }

    /// An id for an event sent without one: a digest of everything it says, so the same event
    /// sent twice is stored once.
    pub fn derived_id(&self) -> Uuid {
        let text = serde_json::json!([
            self.kind.as_str(),
            self.visitor_id,
            self.session_id,
            self.occurred_at,
            self.path,
            self.product_id,
            self.query,
            self.sku,
        ])
        .to_string();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest.as_ref()[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

/// The network a client address counts against: an IPv4 address, an IPv6 /64 (what one
/// household or host is handed).
pub fn network_of(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Payload fields no analysis needs and that identify a person: left out of the event log, like
/// the secret fields the catalog marks.
const PERSONAL_FIELDS: &[&str] = &["email", "old_email", "new_email", "ship_to", "phone"];

/// A domain event's payload as the log keeps it: without its secret fields (one-time tokens)
/// and without personal data.
pub fn loggable_payload(event_type: &str, payload: &serde_json::Value) -> serde_json::Value {
    let mut payload = payload.clone();
    if let Some(object) = payload.as_object_mut() {
        for field in events::catalog::secret_fields(event_type).iter().chain(PERSONAL_FIELDS) {
            object.remove(*field);
        }
    }
    payload
}

/// A report as CSV: the rows' fields as columns, in the order the first row serializes them.
pub fn to_csv<T: Serialize>(rows: &[T]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    let bytes = writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> TrackingEvent {
        serde_json::from_value(json).unwrap()
    }

    fn fields(event: &TrackingEvent, now: DateTime<Utc>) -> Vec<String> {
        let mut errors = FieldErrors::default();
        event.check(3, now, &mut errors);
        errors.into_errors().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn each_event_type_needs_its_own_field_and_names_the_event_by_index() {
        let now = Utc::now();
        let base = serde_json::json!({"visitor_id": "visitor-123", "session_id": "session-123", "occurred_at": now});
        let mut view = base.clone();
        view["type"] = "product_view".into();
        assert_eq!(fields(&event(view), now), ["events[3].product_id"]);
        let mut search = base.clone();
        search["type"] = "search".into();
        search["query"] = "\u{7}".into();
        assert_eq!(fields(&event(search), now), ["events[3].query"]);
        let mut checkout = base;
        checkout["type"] = "checkout_started".into();
        assert!(fields(&event(checkout.clone()), now).is_empty());
        checkout["visitor_id"] = "short".into();
        checkout["occurred_at"] = serde_json::to_value(now - Duration::days(3)).unwrap();
        assert_eq!(fields(&event(checkout), now), ["events[3].visitor_id", "events[3].occurred_at"]);
    }

    #[test]
    fn the_event_log_keeps_neither_secrets_nor_personal_data() {
        let payload = serde_json::json!({"user_id": "u", "email": "a@b.c", "token": "secret", "token_ref": "r"});
        let kept = loggable_payload("PASSWORD_RESET_REQUESTED", &payload);
        assert_eq!(kept.get("email"), None);
        assert_eq!(kept["user_id"], "u");
        for field in events::catalog::secret_fields("PASSWORD_RESET_REQUESTED") {
            assert_eq!(kept.get(*field), None, "{field}");
        }
    }

    #[test]
    fn a_report_becomes_csv_with_a_header_from_its_fields() {
        #[derive(Serialize)]
        struct Row {
            period: &'static str,
            orders: i64,
        }
        let csv = to_csv(&[Row { period: "2026-11-01", orders: 3 }, Row { period: "2026-11-02", orders: 0 }]).unwrap();
        assert_eq!(csv, "period,orders\n2026-11-01,3\n2026-11-02,0\n");
    }
}
