//! Sessions at the edge: refresh rotation with reuse detection, logout that takes effect at
//! once, and tokens that must never pass.

use internal_token::Subject;

use crate::helpers::{TestGateway, claims, now, sign};

/// A gateway whose auth counts any second use of a refresh token as reuse (no grace).
async fn without_reuse_grace() -> TestGateway {
    TestGateway::spawn_full(1, |auth| auth.refresh_reuse_grace = std::time::Duration::ZERO, |_| {}).await
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_kills_the_whole_family() {
    let gw = without_reuse_grace().await;
    let login = gw.shopper_login().await;
    let first = login["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(first.len(), 43);

    let (status, rotated) = gw.post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": first})).await;
    assert_eq!(status, 200, "{rotated}");
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let access = rotated["access_token"].as_str().unwrap();
    assert_eq!(gw.get("/api/v1/auth/sessions", Some(access)).await.0, 200);

    // The rotated token comes back: someone else has it. The family dies, newest token included.
    let (status, problem) = gw.post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": first})).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("refresh_token_reused")));
    let (status, problem) = gw.post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": second})).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("refresh_token_invalid")));
    // Review L2: the session's access tokens die with it, the thief's among them.
    let (status, problem) = gw.get("/api/v1/auth/sessions", Some(access)).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_revoked")));
    let (status, _) = gw.post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": "made-up"})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn two_tabs_refreshing_with_the_same_token_at_once_both_stay_signed_in() {
    // Review L2: a legitimate concurrent refresh used to count as reuse and end the session.
    let gw = TestGateway::spawn().await;
    let login = gw.shopper_login().await;
    let token = serde_json::json!({"refresh_token": login["refresh_token"]});
    let (a, b) = tokio::join!(
        gw.post("/api/v1/auth/refresh", None, token.clone()),
        gw.post("/api/v1/auth/refresh", None, token.clone())
    );
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    for tab in [&a.1, &b.1] {
        let access = tab["access_token"].as_str().unwrap();
        assert_eq!(gw.get("/api/v1/auth/sessions", Some(access)).await.0, 200);
        let next = serde_json::json!({"refresh_token": tab["refresh_token"]});
        assert_eq!(gw.post("/api/v1/auth/refresh", None, next).await.0, 200, "each tab refreshes on");
    }
}

#[tokio::test]
async fn logout_refuses_the_access_token_at_once_and_ends_the_session() {
    let gw = TestGateway::spawn().await;
    let login = gw.shopper_login().await;
    let access = login["access_token"].as_str().unwrap();
    let listed = gw.http.get(gw.url("/api/v1/auth/sessions")).bearer_auth(access).send().await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["cache-control"], "no-store", "review L9");
    let sessions: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1);
    assert_eq!(sessions["items"][0]["current"], true);

    let (status, _) = gw.post("/api/v1/auth/logout", Some(access), serde_json::json!({})).await;
    assert_eq!(status, 204);
    let (status, problem) = gw.get("/api/v1/products?limit=1", Some(access)).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_revoked")), "refused now, not at expiry");
    let refresh = login["refresh_token"].as_str().unwrap();
    let (status, _) = gw.post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": refresh})).await;
    assert_eq!(status, 401, "the session's refresh token is dead too");
}

#[tokio::test]
async fn logout_all_ends_every_session_and_every_earlier_access_token() {
    let gw = TestGateway::spawn().await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({"email": email, "password": crate::helpers::PASSWORD});
    gw.register_ok(&body).await;
    let (_, phone) = gw.post("/api/v1/auth/login", None, body.clone()).await;
    let (_, laptop) = gw.post("/api/v1/auth/login", None, body.clone()).await;
    let phone_token = phone["access_token"].as_str().unwrap();
    let laptop_token = laptop["access_token"].as_str().unwrap();
    let (_, sessions) = gw.get("/api/v1/auth/sessions", Some(laptop_token)).await;
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2);

    // The cutoff is to the millisecond: no wait, and tokens of the same second are revoked too.
    let (status, _) = gw.post("/api/v1/auth/logout-all", Some(laptop_token), serde_json::json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(phone_token)).await.0, 401, "the other device's token");
    assert_eq!(gw.get("/api/v1/products?limit=1", Some(laptop_token)).await.0, 401);
    let refresh = phone["refresh_token"].as_str().unwrap();
    assert_eq!(gw.post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": refresh})).await.0, 401);
    let (_, again) = gw.post("/api/v1/auth/login", None, body).await;
    assert_eq!(gw.get("/api/v1/products?limit=1", again["access_token"].as_str()).await.0, 200, "a new login works");
}

#[tokio::test]
async fn an_internal_token_or_a_token_not_yet_valid_never_passes_as_an_access_token() {
    let gw = TestGateway::spawn().await;
    let internal = testkit::minter("auth").mint("gateway", &Subject::anonymous());
    let (status, problem) = gw.get("/api/v1/products", Some(&internal)).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_wrong_type")));

    let mut early = claims();
    early.nbf = now() + 3600;
    early.iat = now();
    let (status, problem) = gw.get("/api/v1/products", Some(&sign(&gw.kid, &early))).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_not_yet_valid")));
}

#[tokio::test]
async fn a_customer_token_on_an_admin_route_is_forbidden() {
    let gw = TestGateway::spawn().await;
    let token = gw.shopper_token().await;
    let (status, problem) = gw.get("/api/v1/notifications/messages", Some(&token)).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")));
}

#[tokio::test]
async fn the_storefront_refreshes_with_its_http_only_cookie_from_its_own_origin_only() {
    let gw = without_reuse_grace().await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({"email": email, "password": crate::helpers::PASSWORD});
    gw.register_ok(&body).await;
    let login = gw.http.post(gw.url("/api/v1/auth/login")).json(&body).send().await.unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["__Host-shopfleet_refresh=", "HttpOnly", "SameSite=Strict", "Secure", "Path=/;"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    let refresh = |origin: Option<&'static str>| {
        let mut request = gw.http.post(gw.url("/api/v1/auth/refresh")).header("cookie", pair.clone());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    // Another site's page (or no Origin at all) cannot use the cookie.
    assert_eq!(refresh(Some("https://evil.example")).await.unwrap().status(), 403);
    assert_eq!(refresh(None).await.unwrap().status(), 403);
    let response = refresh(Some("http://localhost:3000")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["set-cookie"].to_str().unwrap().starts_with("__Host-shopfleet_refresh="),
        "the rotated token replaces the cookie"
    );
    let fresh = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let rotated: serde_json::Value = response.json().await.unwrap();
    assert!(rotated["access_token"].is_string());
    // Review L5: a second cookie of the same name (one planted by a sibling site) is refused.
    let doubled = gw
        .http
        .post(gw.url("/api/v1/auth/refresh"))
        .header("cookie", format!("{fresh}; {pair}"))
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(doubled.status(), 401);
    // The old cookie was rotated: presenting it again is reuse.
    let reused = refresh(Some("http://localhost:3000")).await.unwrap();
    assert_eq!(reused.status(), 401);
}
