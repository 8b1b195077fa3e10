//! Profiles from events and on demand; preferences; validation.

use std::time::Duration;

use reqwest::Method;
use uuid::Uuid;

use crate::helpers::{TestShop, send};

#[tokio::test]
async fn a_registration_creates_the_profile_once() {
    let shop = TestShop::spawn().await;
    let user_id = shop.register("lena@example.com").await;
    let mut email = None;
    for _ in 0..100 {
        email = shop.profile_email(user_id).await;
        if email.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(email, Some(Some("lena@example.com".to_owned())));
    let (status, me) = shop.as_user(user_id).get("/users/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "lena@example.com");
    assert_eq!(me["locale"], "en");
    let pool = shop.db.pool_as("user").await;
    let profiles: i64 = sqlx::query_scalar("select count(*) from profiles").fetch_one(&pool).await.unwrap();
    assert_eq!(profiles, 1);
}

#[tokio::test]
async fn users_me_racing_the_event_still_ends_with_one_complete_profile() {
    let shop = TestShop::spawn().await;
    // A token for a user whose registration event has not been consumed: a bare profile.
    let early = Uuid::now_v7();
    let (status, me) = shop.as_user(early).get("/users/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["user_id"], early.to_string());
    assert!(me["email"].is_null());

    // Register and ask at once: whichever comes first, the event completes the profile.
    let user_id = shop.register("mia@example.com").await;
    let (status, _) = shop.as_user(user_id).get("/users/me").await;
    assert_eq!(status, 200);
    let mut email = None;
    for _ in 0..100 {
        email = shop.profile_email(user_id).await.flatten();
        if email.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(email.as_deref(), Some("mia@example.com"));
    let (_, me) = shop.as_user(user_id).get("/users/me").await;
    assert_eq!(me["email"], "mia@example.com");
}

#[tokio::test]
async fn anonymous_callers_have_no_me() {
    let shop = TestShop::spawn().await;
    let (status, problem) = shop.anonymous().get("/users/me").await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("token_missing")));
}

#[tokio::test]
async fn profile_and_preference_changes_are_validated_field_by_field() {
    let shop = TestShop::spawn().await;
    let me = shop.as_user(Uuid::now_v7());
    let (status, profile) = send(
        &me,
        Method::PATCH,
        "/users/me",
        serde_json::json!({"display_name": " Ada ", "phone": "+49 151 12345678"}),
    )
    .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["display_name"], "Ada");
    assert_eq!(profile["phone"], "+4915112345678");

    let (status, problem) = send(&me, Method::PATCH, "/users/me", serde_json::json!({"phone": "0151"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("phone")));
    let (status, problem) = send(&me, Method::PATCH, "/users/me", serde_json::json!({"is_admin": true})).await;
    assert_eq!(status, 422, "unknown fields are refused: {problem}");

    let (status, prefs) = send(
        &me,
        Method::PATCH,
        "/users/me/preferences",
        serde_json::json!({"locale": "de-AT", "currency": "chf", "marketing_opt_in": true}),
    )
    .await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!((prefs["locale"].as_str(), prefs["currency"].as_str()), (Some("de-AT"), Some("CHF")));
    assert_eq!(prefs["marketing_opt_in"], true);
    assert_eq!(prefs["notify_email"], true, "untouched preferences stay");
    let (status, problem) =
        send(&me, Method::PATCH, "/users/me/preferences", serde_json::json!({"locale": "german", "currency": "E"}))
            .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["locale", "currency"]);
}
