//! Registration: normalization, uniqueness, and every kind of bad input as a 4xx problem.

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn an_account_is_created_with_its_email_normalized_and_duplicates_conflict() {
    let app = TestApp::spawn().await;
    let (status, body) = app.register("  Alice@Example.COM ", PASSWORD).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], "alice@example.com");
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());

    let (status, problem) = app.register("alice@example.com", "another long password").await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "email_taken");
}

#[tokio::test]
async fn invalid_fields_are_a_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let cases = [
        ("not-an-email", PASSWORD, vec!["email"]),
        ("bob@example.com", "short", vec!["password"]),
        ("bob@example.com", &"x".repeat(129) as &str, vec!["password"]),
        ("nope", "short", vec!["email", "password"]),
    ];
    for (email, password, fields) in cases {
        let (status, problem) = app.register(email, password).await;
        assert_eq!(status, 422, "{email} {password}");
        assert_eq!(problem["code"], "validation_failed");
        let named: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(named, fields);
    }
}

#[tokio::test]
async fn malformed_bodies_get_their_own_4xx_and_never_a_500() {
    let app = TestApp::spawn().await;
    let send = |content_type: &'static str, body: String| {
        let request = app.post("/auth/register").header("content-type", content_type).body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, problem) = send("application/json", "{\"email\": ".into()).await;
    assert_eq!((status, problem["code"].as_str()), (400, Some("malformed_json")));
    let (status, problem) = send("text/plain", r#"{"email":"a@b.co","password":"x"}"#.into()).await;
    assert_eq!((status, problem["code"].as_str()), (415, Some("unsupported_media_type")));
    let (status, problem) =
        send("application/json", format!(r#"{{"email":"a@b.co","password":"{}"}}"#, "x".repeat(200_000))).await;
    assert_eq!((status, problem["code"].as_str()), (413, Some("payload_too_large")));
    let (status, problem) = send("application/json", r#"{"email":"a@b.co"}"#.into()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("password")));
    let (status, problem) = send("application/json", r#"{"email":42,"password":"x"}"#.into()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("email")));
}
