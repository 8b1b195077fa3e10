//! The axum side: a middleware that refuses any request without a valid internal token
//! (401 problem+json) and hands the verified [`Caller`] to handlers.

use std::sync::Arc;

use auth_jwt::TokenError;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use problem::{Code, Permission, Problem};

use crate::{InternalClaims, Verifier};

/// The verified caller of a request: which service, on behalf of whom.
#[derive(Clone, Debug)]
pub struct Caller(pub Arc<InternalClaims>);

impl Caller {
    pub fn service(&self) -> &str {
        &self.0.iss
    }

    pub fn subject(&self) -> &crate::Subject {
        &self.0.subject
    }

    /// The signed-in user the call is made for; `None` for an anonymous call (or a subject
    /// that is not a user id).
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        let subject = &self.0.subject;
        if subject.is_anonymous() { None } else { uuid::Uuid::parse_str(&subject.sub).ok() }
    }

    /// Whether the subject carries `perm` (a route that staff and shoppers share).
    pub fn has_perm(&self, perm: Permission) -> bool {
        self.0.subject.perms.iter().any(|p| p == perm.as_str())
    }

    /// 403 unless the subject carries `perm` (defense in depth behind the gateway's check).
    pub fn require_perm(&self, perm: Permission) -> Result<(), Problem> {
        if self.has_perm(perm) { Ok(()) } else { Err(Problem::forbidden(format!("this needs the {perm} permission"))) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Problem::new(Code::TokenMissing, "an internal token is required"))
    }
}

/// State of [`require_internal`]: the verifier and the issuers this service accepts at all.
#[derive(Clone)]
pub struct InternalGuard {
    verifier: Arc<Verifier>,
    allowed: &'static [&'static str],
}

impl InternalGuard {
    pub fn new(verifier: Arc<Verifier>, allowed: &'static [&'static str]) -> Self {
        Self { verifier, allowed }
    }
}

/// Refuses requests without a valid internal token from an allowed issuer.
pub async fn require_internal(State(guard): State<InternalGuard>, mut request: Request, next: Next) -> Response {
    let token =
        request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return Problem::new(Code::TokenMissing, "an internal token is required").into_response();
    };
    match guard.verifier.verify(token, guard.allowed) {
        Ok(claims) => {
            request.extensions_mut().insert(Caller(Arc::new(claims)));
            next.run(request).await
        }
        Err(error) => {
            tracing::warn!(%error, "internal token refused");
            token_problem(&error).into_response()
        }
    }
}

/// The 401 for a token that failed verification, with the registered code for its reason.
pub fn token_problem(error: &TokenError) -> Problem {
    let code = match error {
        TokenError::Malformed => Code::TokenMalformed,
        TokenError::AlgorithmNotAllowed => Code::TokenAlgorithmNotAllowed,
        TokenError::WrongType => Code::TokenWrongType,
        TokenError::UnknownKey(_) => Code::TokenUnknownKey,
        TokenError::InvalidSignature => Code::TokenInvalidSignature,
        TokenError::Expired => Code::TokenExpired,
        TokenError::NotYetValid => Code::TokenNotYetValid,
        TokenError::WrongAudience => Code::TokenWrongAudience,
        TokenError::WrongIssuer => Code::TokenWrongIssuer,
        TokenError::MissingClaim => Code::TokenMissingClaim,
        TokenError::LifetimeTooLong => Code::TokenLifetimeTooLong,
    };
    Problem::new(code, error.to_string())
}

/// A route layer narrowing who may call one route: `route_layer(from_fn(only_from(&["order"])))`.
pub fn only_from(
    issuers: &'static [&'static str],
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> + Clone {
    move |request: Request, next: Next| {
        Box::pin(async move {
            let allowed = request.extensions().get::<Caller>().is_some_and(|c| issuers.contains(&c.service()));
            if allowed {
                next.run(request).await
            } else {
                Problem::new(Code::TokenWrongIssuer, "this caller may not use this route").into_response()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::middleware::{from_fn, from_fn_with_state};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::{Minter, Subject};

    #[tokio::test]
    async fn a_route_narrowed_to_some_callers_refuses_the_others() {
        let gateway_key = auth_jwt::keys::generate_rsa_private_pem();
        let order_key = auth_jwt::keys::generate_rsa_private_pem();
        let jwks = auth_jwt::Jwks {
            keys: vec![
                auth_jwt::keys::public_jwk(&gateway_key, "gateway").unwrap(),
                auth_jwt::keys::public_jwk(&order_key, "order").unwrap(),
            ],
        };
        let guard = InternalGuard::new(Arc::new(Verifier::new("product", &jwks)), &["gateway", "order"]);
        let app = Router::new()
            .route("/products", get(|caller: Caller| async move { caller.service().to_owned() }))
            .route("/internal/prices", get(|| async { "prices" }).route_layer(from_fn(only_from(&["order"]))))
            .layer(from_fn_with_state(guard, require_internal));
        let call = |issuer: &'static str, key: String, path: &'static str| {
            let app = app.clone();
            async move {
                let token = Minter::new(issuer, &key, 60).unwrap().mint("product", &Subject::anonymous());
                let request =
                    Request::get(path).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
                app.oneshot(request).await.unwrap().status()
            }
        };
        assert_eq!(call("gateway", gateway_key.clone(), "/products").await, StatusCode::OK);
        assert_eq!(call("order", order_key.clone(), "/products").await, StatusCode::OK);
        assert_eq!(call("order", order_key, "/internal/prices").await, StatusCode::OK);
        assert_eq!(call("gateway", gateway_key, "/internal/prices").await, StatusCode::UNAUTHORIZED);
    }
}
