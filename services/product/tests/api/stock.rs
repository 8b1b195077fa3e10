//! `in_stock` follows inventory's STOCK_CHANGED events (the newest per SKU), without any call
//! to inventory.

use events::catalog::StockChanged;

use crate::helpers::TestApp;

async fn publish(app: &TestApp, event: &StockChanged) {
    testkit::stream::publish(&app.redis_prefix, "inventory", event).await;
}

async fn flags(app: &TestApp) -> (bool, bool) {
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    (mug["in_stock"].as_bool().unwrap(), mug["variants"][0]["in_stock"].as_bool().unwrap())
}

#[tokio::test]
async fn stock_events_set_the_flags_and_an_older_one_arriving_late_changes_nothing() {
    let app = TestApp::seeded().await;
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    let sku: contracts::types::Sku = mug["variants"][0]["sku"].as_str().unwrap().parse().unwrap();
    assert_eq!(flags(&app).await, (false, false));

    publish(&app, &StockChanged { sku: sku.clone(), available: true, available_quantity: 5u32.into(), seq: 2 }).await;
    testkit::wait::until("the variant is in stock", || async { flags(&app).await == (true, true) }).await;
    let (_, page) = app.get("/products?in_stock=true").await;
    assert_eq!(page["items"][0]["slug"], "async-tokio-mug");

    // An older event delivered after the newer one is ignored; a newer sell-out is not.
    publish(&app, &StockChanged { sku: sku.clone(), available: false, available_quantity: 0u32.into(), seq: 1 }).await;
    publish(
        &app,
        &StockChanged {
            sku: "NOT-YET-A-VARIANT".parse().unwrap(),
            available: true,
            available_quantity: 3u32.into(),
            seq: 1,
        },
    )
    .await;
    testkit::wait::until("the unknown SKU's flag is kept", || async {
        sqlx::query_scalar::<_, bool>("select exists (select 1 from stock_flags where sku = 'NOT-YET-A-VARIANT')")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(flags(&app).await, (true, true));
    publish(&app, &StockChanged { sku: sku.clone(), available: false, available_quantity: 0u32.into(), seq: 3 }).await;
    testkit::wait::until("the variant is sold out", || async { flags(&app).await == (false, false) }).await;

    // A variant created after its stock was announced starts in stock.
    let (status, created) =
        app.staff.post_json("/products", TestApp::product_body("late-variant", &[("NOT-YET-A-VARIANT", 500)])).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["in_stock"].as_bool(), created["variants"][0]["in_stock"].as_bool()), (Some(true), Some(true)));
}
