//! Scheduled publishing and taking down, on a clock the test moves; the storefront hears of
//! each exactly once, however often its receiver fails first.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_scheduled_page_goes_live_at_its_time_and_the_storefront_is_told_once_despite_failures() {
    let app = TestApp::spawn().await;
    app.create_page("spring-sale", json!([{"type": "markdown", "markdown": "Spring!"}])).await;
    let at = app.clock.now() + chrono::Duration::hours(1);
    let until = at + chrono::Duration::hours(1);
    let (status, page) =
        app.staff.post_json("/content/pages/spring-sale/publish", json!({"at": at, "unpublish_at": until})).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!((&page["scheduled_version"], &page["live_version"]), (&json!(1), &serde_json::Value::Null));

    // Editing the draft after scheduling does not change what goes live.
    let (status, _) = app
        .staff
        .send_json(
            reqwest::Method::PATCH,
            "/content/pages/spring-sale",
            Some(json!({"blocks": [{"type": "markdown", "markdown": "Summer!"}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.public_page("spring-sale", None).await.0, 404, "not before its time");
    assert!(app.receiver.calls_for("page:spring-sale").is_empty());

    app.receiver.fail_next(2);
    app.clock.advance(std::time::Duration::from_secs(3601));
    testkit::wait::until("the scheduled version is live", async || app.public_page("spring-sale", None).await.0 == 200)
        .await;
    let (_, public, _) = app.public_page("spring-sale", None).await;
    assert_eq!(public["blocks"][0]["html"], "<p>Spring!</p>\n");

    // Two failures, then success: three calls for the one publication, each recorded.
    let calls = app.receiver.wait_for("page:spring-sale", 3).await;
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [500, 500, 200]);
    let event_ids: std::collections::HashSet<_> = calls.iter().map(|c| c.body["event_id"].clone()).collect();
    assert_eq!(event_ids.len(), 1, "one publication, one revalidation");
    testkit::wait::until("the revalidation is recorded as sent", async || {
        let (_, list) = app.staff.get("/content/revalidations").await;
        list["items"][0]["status"] == "sent"
    })
    .await;
    let attempts: Vec<(i32, Option<i32>)> =
        sqlx::query_as("select attempt, status_code from revalidation_attempts order by attempt")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);

    // Running the schedule again at the same time changes nothing more.
    let publisher = cms::app::Cms {
        pool: app.pool.clone(),
        media: contracts::media::MediaClient::new(
            service_kit::InternalClient::new(
                &app.publisher_settings.service,
                std::sync::Arc::new(testkit::minter("cms")),
            )
            .unwrap(),
        ),
        settings: std::sync::Arc::new(app.publisher_settings.clone()),
    };
    assert_eq!(publisher.run_schedule(app.clock.now()).await.unwrap(), 0);

    // And at the end of its time the page is taken down, and that is announced too.
    app.clock.advance(std::time::Duration::from_secs(3600));
    testkit::wait::until("the page is taken down", async || app.public_page("spring-sale", None).await.0 == 404).await;
    let calls = app.receiver.wait_for("page:spring-sale", 4).await;
    assert_eq!(calls.len(), 4);
    let (_, versions) = app.staff.get("/content/pages/spring-sale/versions").await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1);
    assert!(versions["items"][0]["published_at"].is_string());
}
