//! Conditional GETs for the CDN: a response body with its strong entity tag, answered 304 when
//! the request's `If-None-Match` names it, with the `Cache-Control` the caller chooses. Shared
//! by every service whose public reads a CDN may keep (the catalog, content pages).

use aws_lc_rs::digest;
use axum::body::Bytes;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A JSON body ready to send, with its entity tag.
#[derive(Clone, Debug)]
pub struct Tagged {
    /// A strong ETag, quoted: `"<hex>"` (the first 96 bits of the body's SHA-256).
    pub etag: String,
    pub body: Bytes,
}

impl Tagged {
    /// Wraps serialized JSON, computing its ETag from the bytes.
    pub fn new(body: Vec<u8>) -> Self {
        let hash = digest::digest(&digest::SHA256, &body);
        let hex: String = hash.as_ref()[..12].iter().map(|b| format!("{b:02x}")).collect();
        Self { etag: format!("\"{hex}\""), body: Bytes::from(body) }
    }

    /// Whether `If-None-Match` in `request` names this body (or `*`).
    pub fn matches(&self, request: &HeaderMap) -> bool {
        request
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == self.etag || tag.trim() == "*"))
    }

    /// 304 when the request already holds this body, else 200 with it; both with the ETag and
    /// `cache_control`.
    pub fn respond(self, request: &HeaderMap, cache_control: &str) -> Response {
        let mut response = if self.matches(request) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], self.body).into_response()
        };
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(ETAG, etag);
        }
        if let Ok(value) = HeaderValue::from_str(cache_control) {
            headers.insert(CACHE_CONTROL, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matching_if_none_match_gets_a_304_with_the_same_etag_and_any_other_the_body() {
        let tagged = Tagged::new(br#"{"a":1}"#.to_vec());
        let mut request = HeaderMap::new();
        request.insert(IF_NONE_MATCH, HeaderValue::from_str(&format!("\"x\", {}", tagged.etag)).unwrap());
        let response = tagged.clone().respond(&request, "public, max-age=60");
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[ETAG], tagged.etag.as_str());
        assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=60");
        request.insert(IF_NONE_MATCH, HeaderValue::from_static("\"stale\""));
        assert_eq!(tagged.respond(&request, "public").status(), StatusCode::OK);
    }
}
