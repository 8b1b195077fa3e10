//! Zero trust, for every service but the gateway: without a valid internal token addressed to
//! it from an allowed issuer, nothing but /health, /ready and /metrics answers.

use std::time::{SystemTime, UNIX_EPOCH};

use auth_jwt::{ACCESS_TOKEN_TYPE, AccessClaims, Role, Signer};
use internal_token::{INTERNAL_TOKEN_TYPE, InternalClaims, Subject};
use testkit::TestDb;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn expired_internal_token(audience: &str) -> String {
    let claims = InternalClaims {
        iss: "gateway".into(),
        aud: audience.into(),
        subject: Subject::anonymous(),
        exp: now() - 120,
        nbf: now() - 150,
        iat: now() - 150,
        jti: "expired".into(),
    };
    Signer::from_pem("gateway", testkit::env().keys.internal_private("gateway"))
        .unwrap()
        .sign(INTERNAL_TOKEN_TYPE, &claims)
}

fn external_access_token() -> String {
    let claims = AccessClaims {
        iss: "shopfleet-auth".into(),
        aud: "shopfleet-api".into(),
        sub: "user-1".into(),
        exp: now() + 600,
        nbf: now(),
        iat: now(),
        iat_ms: 0,
        jti: "j".into(),
        role: Role::Admin,
        perms: vec![],
        sid: None,
        email_verified: false,
    };
    Signer::from_pem("gateway", &testkit::env().keys.access_signing_pem).unwrap().sign(ACCESS_TOKEN_TYPE, &claims)
}

async fn status_and_code(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{url}");
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn every_service_but_the_gateway_refuses_calls_without_a_valid_internal_token() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    for spec in service_kit::SERVICES.iter().filter(|s| s.name != "gateway") {
        let name = spec.name;
        let base = format!("http://{}", conformance::spawn(name, &db).await);
        for open in ["/health", "/ready", "/metrics"] {
            let response = http.get(format!("{base}{open}")).send().await.unwrap();
            assert_eq!(response.status(), 200, "{name} {open}");
        }
        let path = conformance::real_route(name).unwrap_or("/no-such-route");
        let url = format!("{base}{path}");
        let other_audience = if name == "cart" { "order" } else { "cart" };
        let disallowed_issuer = if name == "media" { "cart" } else { "media" };
        let refused = [
            ("no token", None, "token_missing"),
            ("expired", Some(expired_internal_token(name)), "token_expired"),
            (
                "another audience",
                Some(testkit::minter("gateway").mint(other_audience, &Subject::anonymous()).to_string()),
                "token_wrong_audience",
            ),
            (
                "issuer not allowed",
                Some(testkit::minter(disallowed_issuer).mint(name, &Subject::anonymous()).to_string()),
                "token_wrong_issuer",
            ),
            ("a user's access token", Some(external_access_token()), "token_wrong_type"),
        ];
        for (what, token, code) in refused {
            let (status, got) = status_and_code(&http, &url, token.as_deref()).await;
            assert_eq!((status, got.as_str()), (401, code), "{name}: {what}");
        }
        // A valid token (on behalf of an admin, so permission checks pass too).
        let admin = Subject::user("conformance", auth_jwt::Role::Admin, vec!["notifications:read".into()]);
        let valid = testkit::minter("gateway").mint(name, &admin);
        let (status, code) = status_and_code(&http, &url, Some(&valid)).await;
        match conformance::real_route(name) {
            Some(_) => {
                assert_eq!(status, 200, "{name}: a valid token passes");
                let response = http.delete(&url).bearer_auth(&*valid).send().await.unwrap();
                assert_eq!(response.status(), 405, "{name}: wrong method");
                assert_eq!(response.headers()["content-type"], "application/problem+json");
            }
            None => assert_eq!((status, code.as_str()), (404, "not_found"), "{name}: valid token, no route yet"),
        }
    }
}
