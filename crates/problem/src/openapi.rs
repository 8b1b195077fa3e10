//! The problem+json body as an OpenAPI schema, for the routes' error responses. (The gateway's
//! spec adds the registry's codes as the enum of `code`.)

#![allow(dead_code)] // The structs exist for their schema only; the body is built by `Problem::body`.

use utoipa::ToSchema;

/// An RFC 9457 problem: every error of the API has this shape.
#[derive(ToSchema)]
#[schema(as = Problem)]
pub struct ProblemSchema {
    /// `urn:shopfleet:problem:<code>`.
    #[schema(example = "urn:shopfleet:problem:validation_failed")]
    r#type: String,
    /// The HTTP status's reason phrase.
    #[schema(example = "Unprocessable Entity")]
    title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    status: u16,
    /// Stable and machine-readable: what a client branches on. One of the registry's codes.
    #[schema(example = "validation_failed")]
    code: String,
    /// For humans; never carries internals.
    detail: Option<String>,
    /// The request's id, as in the `X-Request-Id` header and the logs.
    request_id: Option<String>,
    /// Every invalid field (422 `validation_failed` only).
    errors: Option<Vec<FieldErrorSchema>>,
}

/// One invalid field of a request.
#[derive(ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorSchema {
    /// The field's name (a JSON path for nested fields).
    #[schema(example = "email")]
    field: String,
    /// One of the registry's field codes.
    #[schema(example = "invalid_email")]
    code: String,
    /// For humans.
    message: String,
}

/// The problems of every route that reads a JSON body (its own; the edge adds 413).
#[derive(utoipa::IntoResponses)]
pub enum JsonBodyProblems {
    /// `malformed_json`: the body is not valid JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(ProblemSchema),
    /// `unsupported_media_type`: the body's Content-Type is not JSON.
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(ProblemSchema),
}

/// The problem of a route that acts for a signed-in user and was called anonymously.
#[derive(utoipa::IntoResponses)]
pub enum SignInRequired {
    /// `token_missing`: sign in first (and every invalid-token code of the edge).
    #[response(status = 401, content_type = "application/problem+json")]
    TokenMissing(ProblemSchema),
}
