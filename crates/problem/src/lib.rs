//! RFC 9457 problem+json: the one error shape every Shopfleet service answers with, and a JSON
//! body extractor that turns bad input into the right 4xx problem instead of a 500.

mod codes;
mod fields;
mod json;
pub mod openapi;
mod permissions;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use codes::{Code, FieldCode};
pub use fields::{Constraint, FieldError, FieldErrors, OnViolation, constraint_problem};
pub use json::{BODY_PROBLEMS, Json, OptionalJson, Query, is_json, parse as parse_json};
pub use permissions::{Permission, StaffRole};

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error response. `code` comes from the registry ([`Code`]): stable and snake_case
/// (`token_expired`, `out_of_stock`) so clients can branch on it, and it decides the status;
/// `detail` is for humans and never carries internals.
#[derive(Clone, Debug)]
pub struct Problem {
    code: Code,
    detail: Option<String>,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    /// Extra members of the body (RFC 9457 extensions), such as a readiness report.
    extensions: Vec<(&'static str, serde_json::Value)>,
}

impl Problem {
    /// A problem with a registered code; its status is the code's.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self { code, detail: Some(detail.into()), errors: Vec::new(), retry_after_secs: None, extensions: Vec::new() }
    }

    /// 403 `forbidden`: authenticated, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(Code::NotFound, detail)
    }

    /// 422 `validation_failed`, naming every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors, ..Self::new(Code::ValidationFailed, "the request has invalid fields") }
    }

    /// 500 `internal_error`. The cause is logged here, where it is handled, and never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(Code::InternalError, "an unexpected error occurred")
    }

    /// Like [`internal`](Self::internal) for an error with sources: the log keeps the whole
    /// chain (`a: b: c`), where `Display` alone shows only its first link.
    pub fn internal_error(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %Chain(cause), "request failed");
        Self::new(Code::InternalError, "an unexpected error occurred")
    }

    /// Tells the client when to come back (`Retry-After`, in seconds).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// Adds a member to the body beside the standard ones.
    pub fn with_extension(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.extensions.push((name, value));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The problem another service of the fleet answered, read back from its body (for a
    /// service that relays an owner's refusal to its own client): `None` unless the code is a
    /// registered one. Field errors with unknown codes are dropped; extensions are not kept.
    pub fn from_body(body: &serde_json::Value) -> Option<Self> {
        let code = Code::parse(body.get("code")?.as_str()?)?;
        let detail = body.get("detail").and_then(|d| d.as_str()).map(str::to_owned);
        let errors = body
            .get("errors")
            .and_then(|e| e.as_array())
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        let field = e.get("field")?.as_str()?;
                        let code = FieldCode::parse(e.get("code")?.as_str()?)?;
                        Some(FieldError::new(field, code, e.get("message").and_then(|m| m.as_str()).unwrap_or("")))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self { code, detail, errors, retry_after_secs: None, extensions: Vec::new() })
    }

    /// The JSON body, with the current request id when there is one.
    pub fn body(&self) -> serde_json::Value {
        let status = self.status();
        let mut body = serde_json::json!({
            "type": format!("urn:shopfleet:problem:{}", self.code),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "code": self.code.as_str(),
        });
        if let Some(detail) = &self.detail {
            body["detail"] = detail.clone().into();
        }
        if let Some(id) = observability::current_request_id() {
            body["request_id"] = id.as_str().into();
        }
        if !self.errors.is_empty() {
            body["errors"] = serde_json::to_value(&self.errors).expect("field errors serialize");
        }
        for (name, value) in &self.extensions {
            body[*name] = value.clone();
        }
        body
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.code)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod from_body_tests {
    use super::*;

    #[test]
    fn a_problem_reads_back_from_its_own_body() {
        let sent = Problem::validation(vec![FieldError::new("role", FieldCode::InvalidValue, "a staff role")]);
        let read = Problem::from_body(&sent.body()).expect("a registered code");
        assert_eq!(read.code(), Code::ValidationFailed);
        assert_eq!(read.errors(), sent.errors());
        assert!(Problem::from_body(&serde_json::json!({"code": "no_such_code"})).is_none());
        assert!(Problem::from_body(&serde_json::json!("text")).is_none());
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.body().to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The 404 every service answers for a path it does not have.
pub async fn not_found_fallback() -> Problem {
    Problem::not_found("no such route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_names_each_field() {
        let problem = Problem::validation(vec![FieldError::new("email", FieldCode::InvalidEmail, "not an email")]);
        let body = problem.body();
        assert_eq!(body["status"], 422);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["errors"][0]["code"], "invalid_email");
    }

    #[tokio::test]
    async fn the_body_carries_the_current_request_id_and_the_problem_media_type() {
        let id = observability::RequestId::parse("rid-42").unwrap();
        let response = observability::with_request_id(id, async {
            Problem::new(Code::TokenExpired, "the token has expired").into_response()
        })
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        let bytes = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["request_id"], "rid-42");
        assert_eq!(body["code"], "token_expired");
    }

    #[test]
    fn internal_errors_never_send_their_cause() {
        let body = Problem::internal(&"password column missing").body();
        assert!(!body.to_string().contains("password column"));
        assert_eq!(body["code"], "internal_error");
    }
}

/// An error and every source under it, for logs (one walk for the fleet, in `observability`).
pub use observability::Chain;
