//! Addresses: CRUD, one default of each kind, and nobody else's.

use reqwest::Method;
use uuid::Uuid;

use crate::helpers::{TestShop, send};

fn address(line1: &str) -> serde_json::Value {
    serde_json::json!({"recipient_name": "Ada Lovelace", "line1": line1, "city": "Berlin", "postal_code": "10115", "country": "de"})
}

#[tokio::test]
async fn addresses_keep_exactly_one_default_of_each_kind() {
    let shop = TestShop::spawn().await;
    let me = shop.as_user(Uuid::now_v7());
    let (status, first) = send(&me, Method::POST, "/users/me/addresses", address("Unter den Linden 1")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["country"], "DE");
    assert_eq!(
        (first["is_default_shipping"].as_bool(), first["is_default_billing"].as_bool()),
        (Some(true), Some(true))
    );

    let mut second_body = address("Karl-Marx-Allee 2");
    second_body["is_default_shipping"] = true.into();
    let (status, second) = send(&me, Method::POST, "/users/me/addresses", second_body).await;
    assert_eq!(status, 201);
    assert_eq!(
        (second["is_default_shipping"].as_bool(), second["is_default_billing"].as_bool()),
        (Some(true), Some(false))
    );

    let (_, list) = me.get("/users/me/addresses").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|a| a["is_default_shipping"] == true).count(), 1);
    assert_eq!(items[0]["is_default_billing"], true, "billing stayed with the first");

    let path = format!("/users/me/addresses/{}", first["id"].as_str().unwrap());
    let (status, updated) =
        send(&me, Method::PATCH, &path, serde_json::json!({"is_default_shipping": true, "line2": "Hinterhaus"})).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["line2"], "Hinterhaus");
    assert_eq!(updated["city"], "Berlin", "untouched fields stay");
    let (_, second_now) = me.get(&format!("/users/me/addresses/{}", second["id"].as_str().unwrap())).await;
    assert_eq!(second_now["is_default_shipping"], false);

    let response = me.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, _) = me.get(&path).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_addresses_name_every_bad_field() {
    let shop = TestShop::spawn().await;
    let me = shop.as_user(Uuid::now_v7());
    let (status, problem) = send(
        &me,
        Method::POST,
        "/users/me/addresses",
        serde_json::json!({"recipient_name": "", "line1": "x", "country": "Germany", "phone": "12"}),
    )
    .await;
    assert_eq!(status, 422);
    let mut fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["city", "country", "phone", "postal_code", "recipient_name"]);
}

#[tokio::test]
async fn another_users_address_is_not_found_whatever_is_tried() {
    let shop = TestShop::spawn().await;
    let owner = shop.as_user(Uuid::now_v7());
    let (_, address) = send(&owner, Method::POST, "/users/me/addresses", address("Alexanderplatz 1")).await;
    let path = format!("/users/me/addresses/{}", address["id"].as_str().unwrap());
    let intruder = shop.as_user(Uuid::now_v7());
    assert_eq!(intruder.get(&path).await.0, 404);
    assert_eq!(send(&intruder, Method::PATCH, &path, serde_json::json!({"city": "Hamburg"})).await.0, 404);
    assert_eq!(intruder.request(Method::DELETE, &path).send().await.unwrap().status(), 404);
    assert_eq!(intruder.get("/users/me/addresses").await.1["items"].as_array().unwrap().len(), 0);
    assert_eq!(intruder.get("/users/me/addresses/not-a-uuid").await.0, 404);
    let (_, still) = owner.get(&path).await;
    assert_eq!(still["city"], "Berlin");
}

#[tokio::test]
async fn concurrent_default_changes_all_succeed_and_leave_exactly_one_default() {
    let shop = TestShop::spawn().await;
    let user = Uuid::now_v7();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let me = shop.as_user(user);
        tasks.push(tokio::spawn(async move {
            let mut body = address(&format!("Street {n}"));
            body["is_default_shipping"] = true.into();
            send(&me, Method::POST, "/users/me/addresses", body).await.0
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 201), "changes of one user are serialized: {statuses:?}");
    let (_, list) = shop.as_user(user).get("/users/me/addresses").await;
    let defaults = list["items"].as_array().unwrap().iter().filter(|a| a["is_default_shipping"] == true).count();
    assert_eq!(defaults, 1);
}
