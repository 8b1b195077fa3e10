//! Shipping as data: staff keep zones and methods (only with `shipping:write`, every field
//! checked, every change audited), a checkout ships with the method chosen or the shop's first
//! that ships the order, priced by its rule (flat, weight bands, free from a subtotal), and a
//! method that does not ship the order is refused by name before anything is held; the order
//! keeps the method as it was.

use auth_jwt::Role;
use internal_token::Subject;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::ServiceCaller;
use uuid::Uuid;

use crate::helpers::{Shop, Shopper, place};

fn staff_with(shop: &Shop, perms: &[&str]) -> ServiceCaller {
    let perms = perms.iter().map(|p| (*p).to_owned()).collect();
    let subject = Subject::user(Uuid::now_v7().to_string(), Role::Admin, perms);
    ServiceCaller::new("order", shop.order_addr).as_subject(subject)
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect()).unwrap_or_default()
}

/// Places the shopper's cart to a typed-in address in `country`, with `method` if given.
async fn place_to(shopper: &Shopper, key: &str, country: &str, method: Option<&str>) -> (u16, Value) {
    let mut body = json!({"shipping_address": {"recipient_name": "Ada Lovelace", "line1": "Main Street 1",
        "city": "Town", "postal_code": "12345", "country": country}});
    if let Some(method) = method {
        body["shipping_method_id"] = json!(method);
    }
    place(&shopper.order, key, body).await
}

#[tokio::test]
async fn staff_keep_zones_and_methods_every_field_checked_and_only_with_the_permission() {
    let shop = Shop::spawn().await;
    let staff = staff_with(&shop, &["shipping:write"]);
    let (status, zones) = staff.get("/shipping/zones").await;
    let names: Vec<&str> = zones["items"].as_array().unwrap().iter().filter_map(|z| z["name"].as_str()).collect();
    assert_eq!((status, names), (200, vec!["Austria", "Germany", "Rest of the world"]), "the seed");

    let (status, zone) =
        staff.post_json("/shipping/zones", json!({"name": "Nordics", "countries": ["se", "NO", "SE"]})).await;
    assert_eq!((status, zone["countries"].clone()), (201, json!(["NO", "SE"])), "{zone}");
    let zone_id = zone["id"].as_str().unwrap().to_owned();
    let (status, problem) = staff.post_json("/shipping/zones", json!({"name": "Nordics", "countries": ["FI"]})).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("shipping_name_taken")));
    let (status, problem) = staff.post_json("/shipping/zones", json!({"name": "", "countries": ["SWE"]})).await;
    assert_eq!((status, fields(&problem)), (422, vec!["name", "countries"]));
    let (status, problem) = staff.post_json("/shipping/zones", json!({"name": "Elsewhere", "countries": ["*"]})).await;
    assert_eq!((status, fields(&problem)), (422, vec!["countries"]), "one rest of the world: {problem}");

    let method = json!({"zone_id": zone_id, "name": "Postnord", "carrier": "PostNord", "min_days": 2, "max_days": 4,
        "price": {"rule": "weight", "bands": [{"up_to": 1000, "fee_minor": 390}, {"up_to": 5000, "fee_minor": 790}]}});
    let (status, created) = staff.post_json("/shipping/methods", method.clone()).await;
    assert_eq!((status, created["price"]["bands"][1]["fee_minor"].as_i64()), (201, Some(790)), "{created}");
    let (status, problem) = staff.post_json("/shipping/methods", method.clone()).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("shipping_name_taken")));
    let mut bad = method.clone();
    bad["zone_id"] = json!(Uuid::now_v7());
    bad["name"] = json!("Other");
    let (status, problem) = staff.post_json("/shipping/methods", bad.clone()).await;
    assert_eq!((status, fields(&problem)), (422, vec!["zone_id"]), "no such zone");
    bad["price"] =
        json!({"rule": "subtotal", "bands": [{"up_to": 500, "fee_minor": 1}, {"up_to": 100, "fee_minor": 2}]});
    bad["min_days"] = json!(5);
    bad["max_days"] = json!(1);
    let (status, problem) = staff.post_json("/shipping/methods", bad).await;
    assert_eq!((status, fields(&problem)), (422, vec!["max_days", "price"]));

    let (status, listed) = staff.get(&format!("/shipping/methods?zone_id={zone_id}")).await;
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(staff.get(&format!("/shipping/zones/{}", Uuid::now_v7())).await.0, 404);
    assert_eq!(staff.get(&format!("/shipping/methods/{}", Uuid::now_v7())).await.0, 404);
    assert_eq!(staff.get("/shipping/methods/not-an-id").await.0, 404);
    let elsewhere = format!("/shipping/methods/{}", Uuid::now_v7());
    assert_eq!(staff.send_json(Method::PUT, &elsewhere, Some(method.clone())).await.0, 404);
    assert_eq!(staff.send_json(Method::DELETE, &elsewhere, None).await.0, 404);

    let others = staff_with(&shop, &["orders:write"]);
    assert_eq!(others.get("/shipping/zones").await.0, 403);
    // Anyone may ask where the shop ships: the seeded countries, the new zone's, and the rest.
    let (status, served) = others.get("/shipping/countries").await;
    assert_eq!((status, served), (200, json!({"countries": ["AT", "DE", "NO", "SE"], "everywhere_else": true})));
    assert_eq!(others.post_json("/shipping/zones", json!({"name": "X", "countries": ["FI"]})).await.0, 403);

    let path = format!("/shipping/zones/{zone_id}");
    assert_eq!(staff.send_json(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(staff.get(&format!("/shipping/methods/{}", created["id"].as_str().unwrap())).await.0, 404, "with it");
    let audit: Vec<String> = sqlx::query_scalar(
        "select envelope->'payload'->>'action' from outbox where event_type = 'AUDIT_RECORDED' order by created_at, id",
    )
    .fetch_all(&shop.order_pool)
    .await
    .unwrap();
    assert_eq!(audit, ["shipping_zone.create", "shipping_method.create", "shipping_zone.delete"]);
}

#[tokio::test]
async fn a_checkout_ships_with_the_method_chosen_priced_by_its_rule_and_refused_by_name_when_it_cannot() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 20).await;
    let staff = staff_with(&shop, &["shipping:write"]);
    let (_, zone) = staff.post_json("/shipping/zones", json!({"name": "Nordics", "countries": ["SE"]})).await;
    let zone_id = zone["id"].as_str().unwrap();
    let bands =
        json!({"rule": "weight", "bands": [{"up_to": 1000, "fee_minor": 390}, {"up_to": 5000, "fee_minor": 790}]});
    let (_, postnord) = staff
        .post_json(
            "/shipping/methods",
            json!({"zone_id": zone_id, "name": "Postnord", "carrier": "PostNord",
            "min_days": 2, "max_days": 4, "price": bands}),
        )
        .await;
    let postnord_id = postnord["id"].as_str().unwrap().to_owned();
    let soon = chrono::Utc::now() + chrono::Duration::days(7);
    let (status, later) = staff
        .post_json("/shipping/methods", json!({"zone_id": zone_id, "name": "Christmas express", "carrier": "DHL",
            "min_days": 1, "max_days": 1, "price": {"rule": "flat", "fee_minor": 1990}, "active_from": soon, "position": 1}))
        .await;
    assert_eq!(status, 201, "{later}");
    let germany_express: String = sqlx::query_scalar("select id::text from shipping_methods where name = 'Express'")
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();

    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    // Not offered yet, and not to Sweden: refused by name, nothing held.
    let (status, problem) = place_to(&ann, "k1", "SE", later["id"].as_str()).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("shipping_unavailable")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("Christmas express"), "{problem}");
    assert_eq!(problem["shipping_method_id"], later["id"]);
    let (status, problem) = place_to(&ann, "k2", "SE", Some(&germany_express)).await;
    assert_eq!(problem["detail"].as_str(), Some("Express does not ship to SE"), "{status} {problem}");
    assert_eq!(shop.levels("DEMO-0001-M").await, (20, 0), "nothing is held");

    // Three kilos: the second band.
    sqlx::query("update variants set weight_grams = 3000 where sku = 'DEMO-0001-M'")
        .execute(&shop.product_pool)
        .await
        .unwrap();
    let (status, order) = place_to(&ann, "k3", "SE", Some(&postnord_id)).await;
    assert_eq!((status, order["shipping_minor"].as_i64()), (201, Some(790)), "{order}");
    let subtotal = order["subtotal_minor"].as_i64().unwrap();
    assert_eq!(order["total_minor"].as_i64(), Some(subtotal + 790));
    assert_eq!(
        order["shipping_method"],
        json!({"id": postnord_id, "name": "Postnord", "carrier": "PostNord", "min_days": 2, "max_days": 4})
    );
    // The order keeps the method as it was when placed.
    let mut renamed = postnord.clone();
    for field in ["id", "created_at", "updated_at"] {
        renamed.as_object_mut().unwrap().remove(field);
    }
    renamed["name"] = json!("PostNord Parcel");
    let (status, body) = staff.send_json(Method::PUT, &format!("/shipping/methods/{postnord_id}"), Some(renamed)).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("PostNord Parcel")), "{body}");
    let path = format!("/orders/{}", order["id"].as_str().unwrap());
    assert_eq!(ann.order.get(&path).await.1["shipping_method"]["name"], "Postnord");

    // Two units weigh six kilos: past the last band, and no other method ships it.
    let bob = shop.shopper(true).await;
    bob.add("DEMO-0001-M", 2).await;
    let (status, problem) = place_to(&bob, "k4", "SE", Some(&postnord_id)).await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (422, Some("PostNord Parcel does not take an order this heavy or this large"))
    );
    let (status, problem) = place_to(&bob, "k5", "SE", None).await;
    assert_eq!((status, problem["detail"].as_str()), (422, Some("no shipping method ships this order to SE")));
    assert!(problem.get("shipping_method_id").is_none());
    // Elsewhere the rest of the world ships it by its own bands (up to 10 kg: 29.90).
    let (status, order) = place_to(&bob, "k6", "US", None).await;
    assert_eq!(
        (status, order["shipping_minor"].as_i64(), order["shipping_method"]["name"].as_str()),
        (201, Some(2990), Some("International"))
    );

    // A deleted method is named as gone.
    assert_eq!(staff.send_json(Method::DELETE, &format!("/shipping/methods/{postnord_id}"), None).await.0, 204);
    let carl = shop.shopper(true).await;
    carl.add("DEMO-0001-M", 1).await;
    let (status, problem) = place_to(&carl, "k7", "SE", Some(&postnord_id)).await;
    assert_eq!((status, problem["detail"].as_str()), (422, Some("the shipping method chosen no longer exists")));
    // At home, the first method (Standard) is the default; Pickup when chosen costs nothing.
    let (status, order) = carl.place("k8").await;
    assert_eq!((status, order["shipping_method"]["name"].as_str()), (201, Some("Standard")), "{order}");
    let dana = shop.shopper(true).await;
    dana.add("DEMO-0001-M", 1).await;
    let pickup: String = sqlx::query_scalar("select id::text from shipping_methods where name = 'Pickup at the store'")
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
    let (status, order) = place_to(&dana, "k9", "DE", Some(&pickup)).await;
    assert_eq!((status, order["shipping_minor"].as_i64()), (201, Some(0)), "{order}");
}

#[tokio::test]
async fn the_cart_lists_what_ships_it_priced_and_keeps_the_choice_for_the_checkout() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 20).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let subtotal = ann.cart.get("/carts/current").await.1["subtotal_minor"].as_i64().unwrap();
    let standard = if subtotal >= 5_000 { 0 } else { 490 };

    let (status, home) = ann.cart.get("/carts/current/shipping-methods?country=de").await;
    assert_eq!(status, 200, "{home}");
    let offered: Vec<(&str, i64)> = home["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["price_minor"].as_i64().unwrap()))
        .collect();
    assert_eq!(offered, [("Standard", standard), ("Express", 1290), ("Pickup at the store", 0)]);
    let (status, abroad) = ann.cart.get("/carts/current/shipping-methods?country=JP").await;
    assert_eq!((status, abroad["items"][0]["name"].as_str()), (200, Some("International")), "the rest of the world");
    let (status, problem) = ann.cart.get("/carts/current/shipping-methods?country=Japan").await;
    assert_eq!((status, fields(&problem)), (422, vec!["country"]));
    assert_eq!(ann.cart.get("/carts/current/shipping-methods").await.0, 422, "a country is needed");

    let express = home["items"][1]["id"].as_str().unwrap().to_owned();
    let (status, cart) = ann
        .cart
        .send_json(Method::PUT, "/carts/current/shipping-method", Some(json!({"shipping_method_id": express})))
        .await;
    assert_eq!((status, cart["shipping_method_id"].as_str()), (200, Some(express.as_str())), "{cart}");
    let (status, problem) =
        ann.cart.send_json(Method::PUT, "/carts/current/shipping-method", Some(json!({"shipping_method_id": 7}))).await;
    assert_eq!(status, 422, "{problem}");

    // The checkout ships with the cart's choice, and checks it against the address.
    let (status, problem) = place_to(&ann, "abroad", "JP", None).await;
    assert_eq!((status, problem["detail"].as_str()), (422, Some("Express does not ship to JP")));
    let (status, order) = ann.place("home").await;
    assert_eq!(
        (status, order["shipping_method"]["name"].as_str(), order["shipping_minor"].as_i64()),
        (201, Some("Express"), Some(1290)),
        "{order}"
    );
    // The body's choice wins over the cart's; forgetting the cart's brings the default back.
    let (status, order) = place_to(&ann, "pickup", "DE", home["items"][2]["id"].as_str()).await;
    assert_eq!((status, order["shipping_method"]["name"].as_str()), (201, Some("Pickup at the store")));
    let (status, cart) = ann.cart.send_json(Method::DELETE, "/carts/current/shipping-method", None).await;
    assert_eq!((status, cart["shipping_method_id"].clone()), (200, Value::Null));
    let (status, order) = ann.place("default").await;
    assert_eq!((status, order["shipping_method"]["name"].as_str()), (201, Some("Standard")), "{order}");
}
