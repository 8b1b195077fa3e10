//! `problem::Json<T>`: like axum's `Json`, but every way a body can be wrong is a problem+json:
//! wrong content type 415, too large 413, unreadable JSON 400, wrong shape 422 naming the field.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Code, FieldCode, FieldError, Problem};

/// Every problem [`Json`] (and [`OptionalJson`]) answers for a bad body, with its code: the one
/// list the gateway's OpenAPI document derives each JSON-body operation's responses from, so a
/// route cannot forget one (the issue 23 fuzzing found 8 operations without their 400).
pub const BODY_PROBLEMS: &[(u16, Code, &str)] = &[
    (
        400,
        Code::MalformedJson,
        "`malformed_json`: the body is not valid JSON (or `unreadable_body`: it could not be read).",
    ),
    (413, Code::PayloadTooLarge, "`payload_too_large`: the body is larger than the route accepts."),
    (415, Code::UnsupportedMediaType, "`unsupported_media_type`: the body is not JSON."),
    (
        422,
        Code::ValidationFailed,
        "`validation_failed`: the body is JSON of the wrong shape (`errors` names each field).",
    ),
];

/// A JSON request body or response.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(Problem::new(Code::UnsupportedMediaType, "expected Content-Type: application/json"));
        }
        let bytes = read_body(request, state).await?;
        parse(&bytes).map(Json)
    }
}

/// A JSON request body that may be left out: an empty body is `T::default()` (so `POST
/// /content/pages/{slug}/publish` with nothing publishes now); anything sent is read as
/// [`Json`] reads it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_type = request.headers().get(header::CONTENT_TYPE).cloned();
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json(declared_type.as_ref()) {
            return Err(Problem::new(Code::UnsupportedMediaType, "expected Content-Type: application/json"));
        }
        parse(&bytes).map(OptionalJson)
    }
}

/// The whole body: too large is 413, unreadable 400.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(Code::PayloadTooLarge, "the request body is too large")
        } else {
            Problem::new(Code::UnreadableBody, "the request body could not be read")
        }
    })
}

/// Whether a Content-Type is JSON (`application/json` or any `application/*+json`).
pub fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body: syntax errors are 400 `malformed_json`; a body that is JSON but of the
/// wrong shape is 422 naming the offending field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Problem::new(Code::MalformedJson, format!("the body is not valid JSON: {inner}"))
        } else {
            // serde names a missing field in its message, not in the path.
            let message = inner.to_string();
            let field = if path == "." || path.is_empty() { missing_field(&message).unwrap_or_default() } else { path };
            Problem::validation(vec![FieldError::new(field, FieldCode::InvalidValue, strip_position(&message))])
        }
    })
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

/// A query string, like axum's `Query`, but an unreadable one is a 400 problem+json.
#[derive(Clone, Copy, Debug, Default)]
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| Problem::new(Code::MalformedQuery, rejection.body_text()))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    async fn post_body(content_type: Option<&str>, body: impl Into<Body>) -> (StatusCode, serde_json::Value) {
        let app = Router::new()
            .route("/", post(|Json(_): Json<Login>| async { "ok" }))
            .layer(axum::extract::DefaultBodyLimit::max(64));
        let mut request = Request::post("/");
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let response = app.oneshot(request.body(body.into()).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn an_unreadable_query_string_is_a_400_problem() {
        #[derive(serde::Deserialize)]
        struct Page {
            limit: u32,
        }
        let app = Router::new()
            .route("/", axum::routing::get(|Query(page): Query<Page>| async move { page.limit.to_string() }));
        let response = app.oneshot(Request::get("/?limit=lots").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], crate::PROBLEM_CONTENT_TYPE);
    }

    #[tokio::test]
    async fn each_kind_of_bad_body_gets_its_own_status_and_code() {
        let (s, b) = post_body(Some("text/plain"), r#"{"email":"a","password":"b"}"#).await;
        assert_eq!((s.as_u16(), b["code"].as_str()), (415, Some("unsupported_media_type")));
        let (s, b) = post_body(Some("application/json"), "{not json").await;
        assert_eq!((s.as_u16(), b["code"].as_str()), (400, Some("malformed_json")));
        let (s, b) = post_body(Some("application/json"), r#"{"email":"a"}"#).await;
        assert_eq!((s.as_u16(), b["errors"][0]["field"].as_str()), (422, Some("password")));
        let (s, b) = post_body(Some("application/json"), r#"{"email":5,"password":"b"}"#).await;
        assert_eq!((s.as_u16(), b["errors"][0]["field"].as_str()), (422, Some("email")));
        let (s, b) = post_body(
            Some("application/json; charset=utf-8"),
            format!(r#"{{"email":"{}","password":"b"}}"#, "a".repeat(100)),
        )
        .await;
        assert_eq!((s.as_u16(), b["code"].as_str()), (413, Some("payload_too_large")));
        let (s, _) = post_body(Some("application/json; charset=utf-8"), r#"{"email":"a","password":"b"}"#).await;
        assert_eq!(s, StatusCode::OK);
    }
}
