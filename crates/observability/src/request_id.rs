//! X-Request-Id: accepted when well formed, otherwise made fresh, and kept in a task-local so
//! errors, logs and outgoing internal calls of the same request carry it.

use std::fmt;
use std::future::Future;

use http::{HeaderMap, HeaderValue};

/// The header that carries the request id across NGINX, the gateway and every service.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest incoming request id we accept; longer ones are replaced, not truncated.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// A request id that is known to be safe to log and to put in a header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// Accepts an id made of 1 to 128 ASCII letters, digits, `-`, `_`, `.` or `:`; anything else
    /// (empty, too long, spaces, control characters) is refused so it cannot forge log lines.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = !raw.is_empty()
            && raw.len() <= MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        well_formed.then(|| Self(raw.to_owned()))
    }

    /// A fresh random id (UUID v4).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The incoming id if one is present and well formed, else a fresh one.
    pub fn from_headers_or_new(headers: &HeaderMap) -> Self {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn header_value(&self) -> HeaderValue {
        // Parsing guarantees visible ASCII only.
        HeaderValue::from_str(&self.0).expect("request ids are visible ASCII")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of the request this task is serving, if any.
pub fn current_request_id() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `fut` with `id` as the current request id.
pub async fn with_request_id<F: Future>(id: RequestId, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_incoming_id_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("abc-123_X.y:z"));
        assert_eq!(RequestId::from_headers_or_new(&headers).as_str(), "abc-123_X.y:z");
    }

    #[test]
    fn a_malformed_incoming_id_is_replaced_by_a_uuid() {
        for bad in ["", "has space", "new\nline", &"a".repeat(129), "quote\"d"] {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(bad) {
                headers.insert(REQUEST_ID_HEADER, v);
            }
            let id = RequestId::from_headers_or_new(&headers);
            assert_ne!(id.as_str(), bad);
            assert!(uuid::Uuid::parse_str(id.as_str()).is_ok(), "{bad:?} gave {id}");
        }
    }

    #[tokio::test]
    async fn the_current_id_is_visible_inside_the_scope_only() {
        assert!(current_request_id().is_none());
        let id = RequestId::parse("scoped").unwrap();
        let seen = with_request_id(id.clone(), async { current_request_id() }).await;
        assert_eq!(seen, Some(id));
    }
}
