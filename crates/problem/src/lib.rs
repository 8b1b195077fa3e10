//! RFC 9457 problem+json: the one error shape every Shopfleet service answers with, and a JSON
//! body extractor that turns bad input into the right 4xx problem instead of a 500.

mod json;

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use json::{Json, Query, is_json, parse as parse_json};

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field of a request: which field, a stable code, and a message for humans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: Cow::Borrowed(code), message: message.into() }
    }
}

/// An error response. `code` is stable and snake_case (`token_expired`, `out_of_stock`) so clients
/// can branch on it; `detail` is for humans and never carries internals.
#[derive(Clone, Debug)]
pub struct Problem {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: Option<String>,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// 400 `malformed_request` family: the request could not be read at all.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401 with a stable code such as `token_missing` or `token_expired`.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 403 `forbidden`: authenticated, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 409 with a stable code such as `email_taken`.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 422 `validation_failed`, naming every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: Cow::Borrowed("validation_failed"),
            detail: Some("the request has invalid fields".to_owned()),
            errors,
            retry_after_secs: None,
        }
    }

    /// 500 `internal_error`. The cause is logged here, where it is handled, and never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an unexpected error occurred")
    }

    /// 503 `service_unavailable`, optionally telling the client when to come back.
    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The JSON body, with the current request id when there is one.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "type": format!("urn:shopfleet:problem:{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "code": self.code,
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
        body
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body().to_string()).into_response();
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
        let problem = Problem::validation(vec![FieldError::new("email", "invalid_email", "not an email")]);
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
            Problem::unauthorized("token_expired", "the token has expired").into_response()
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
