//! `Idempotency-Key` on the money routes (orders, payments, refunds): reading the header the
//! same way everywhere, and the request fingerprint that tells a replay from a key reused for
//! another request.

use aws_lc_rs::digest;
use axum::http::HeaderMap;
use problem::{FieldCode, FieldError, Problem};
use serde::Serialize;

/// The header's name.
pub const HEADER: &str = "idempotency-key";

/// The request's key: 1 to 255 visible ASCII characters (trimmed), or a 422 naming the header.
pub fn key(headers: &HeaderMap) -> Result<String, Problem> {
    let key = headers.get(HEADER).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::validation(vec![FieldError::new(
            "Idempotency-Key",
            FieldCode::Required,
            "send an Idempotency-Key header of 1 to 255 visible characters",
        )]));
    }
    Ok(key.to_owned())
}

/// A request's fingerprint: hex SHA-256 of its canonical JSON.
pub fn fingerprint(body: &impl Serialize) -> String {
    let canonical = serde_json::to_vec(body).expect("a request serializes");
    digest::digest(&digest::SHA256, &canonical).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_and_fingerprints_follow_the_body() {
        let mut headers = HeaderMap::new();
        assert!(key(&headers).is_err());
        headers.insert(HEADER, " order-1 ".parse().unwrap());
        assert_eq!(key(&headers).unwrap(), "order-1");
        headers.insert(HEADER, "a b".parse().unwrap());
        assert!(key(&headers).is_err());
        headers.insert(HEADER, "x".repeat(256).parse().unwrap());
        assert!(key(&headers).is_err());
        assert_eq!(fingerprint(&serde_json::json!({"a": 1})), fingerprint(&serde_json::json!({"a": 1})));
        assert_ne!(fingerprint(&serde_json::json!({"a": 1})), fingerprint(&serde_json::json!({"a": 2})));
    }
}
