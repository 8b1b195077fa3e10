//! Which names carry secrets. Log formatting consults this for every field, so a secret that
//! reaches a log call by mistake is still printed as `[redacted]`.

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// True for field or header names that carry credentials or one-time secrets:
/// `authorization`, `cookie`, `set-cookie`, and anything naming a password, token, secret or key.
pub fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "proxy-authorization" | "cookie" | "set-cookie")
        || ["password", "token", "secret", "private_key", "api_key", "totp", "otp"]
            .iter()
            .any(|needle| name.contains(needle))
}

/// Replaces the values of sensitive keys anywhere inside a JSON value.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if is_sensitive(key) {
                    *inner = serde_json::Value::String(REDACTED.to_owned());
                } else {
                    redact_json(inner);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_sensitive_and_ordinary_fields_are_not() {
        for name in ["Authorization", "cookie", "password", "new_password", "refresh_token", "client_secret"] {
            assert!(is_sensitive(name), "{name}");
        }
        for name in ["email", "route", "status", "request_id", "latency_ms"] {
            assert!(!is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn nested_secrets_in_json_are_redacted() {
        let mut v = serde_json::json!({"email": "a@b.c", "password": "hunter22hunter22",
            "inner": [{"access_token": "eyJ..."}]});
        redact_json(&mut v);
        assert_eq!(v["email"], "a@b.c");
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["inner"][0]["access_token"], REDACTED);
    }
}
