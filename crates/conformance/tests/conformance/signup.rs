//! Sign-up while Redis is down: registration still succeeds (its events wait in auth's outbox);
//! once Redis is back, the profiles and the verification emails appear, each exactly once.

use std::time::Duration;

use secrecy::SecretString;
use testkit::{ServiceCaller, TestDb};

#[tokio::test]
async fn registrations_during_a_redis_outage_produce_their_profiles_and_emails_once_redis_is_back() {
    let dir = std::env::temp_dir().join(format!(
        "shopfleet-test-{}-signup-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mail_dir = dir.join("mail");
    let port = testkit::unused_port();
    let mut redis = testkit::cluster::start_redis(&dir.join("redis"), port, false).unwrap();
    let redis_url = format!("redis://127.0.0.1:{port}");
    let db = TestDb::new().await;
    let prefix = testkit::redis_prefix();
    let config = |service: &str| {
        let mut config = testkit::service_config(service, Some(&db));
        let redis = config.redis.as_mut().unwrap();
        redis.url = redis_url.clone();
        redis.key_prefix = prefix.clone();
        config
    };
    let key = SecretString::from(testkit::env().keys.access_signing_pem.clone());
    let auth = auth::build(auth::AuthConfig::new(config("auth"), key)).await.unwrap().spawn();
    user::build_with(config("user"), |c| c.block = Duration::from_millis(200)).await.unwrap().spawn();
    let mut notification_service = config("notification");
    testkit::point_at(&mut notification_service, "auth", auth);
    let mut notification_config = notification::NotificationConfig::new(notification_service);
    notification_config.email = notification::config::EmailSettings::File(mail_dir.clone());
    notification_config.consumer.block = Some(Duration::from_millis(200));
    notification_config.sender.poll_interval = Duration::from_millis(100);
    notification::build(notification_config).await.unwrap().spawn();

    testkit::procs::signal_group(&redis, 9);
    redis.wait().unwrap();
    let auth = ServiceCaller::new("auth", auth);
    let emails = ["nia@example.com", "omar@example.com", "pia@example.com"];
    for email in emails {
        let (status, body) = auth
            .post_json(
                "/auth/register",
                serde_json::json!({"email": email, "password": "correct horse battery staple"}),
            )
            .await;
        assert_eq!(status, 201, "registration works without Redis: {body}");
    }

    let mut redis_again = testkit::cluster::start_redis(&dir.join("redis"), port, false).unwrap();
    let users = db.pool_as("user").await;
    let notifications = db.pool_as("notification").await;
    let mut done = false;
    for _ in 0..300 {
        let profiles: i64 = sqlx::query_scalar("select count(*) from profiles where email is not null")
            .fetch_one(&users)
            .await
            .unwrap();
        let sent: i64 = sqlx::query_scalar("select count(*) from messages where status = 'sent'")
            .fetch_one(&notifications)
            .await
            .unwrap();
        if profiles == 3 && sent == 3 {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "profiles and emails appear once Redis is back");
    // Evidence that nothing more can come: both groups have read and acknowledged every entry of
    // auth's stream, and auth's outbox is all published.
    let auth_pool = db.pool_as("auth").await;
    let mut redis_connection =
        redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str()).unwrap()).await.unwrap();
    let stream = events::stream_name(&prefix, "auth");
    testkit::wait::until("every event published, read and acknowledged by both groups", async || {
        let unsent: i64 = sqlx::query_scalar("select count(*) from outbox where sent_at is null")
            .fetch_one(&auth_pool)
            .await
            .unwrap();
        let groups: redis::streams::StreamInfoGroupsReply =
            redis::cmd("XINFO").arg("GROUPS").arg(&stream).query_async(&mut redis_connection).await.unwrap();
        unsent == 0 && groups.groups.len() == 2 && groups.groups.iter().all(|g| g.pending == 0 && g.lag == Some(0))
    })
    .await;
    let profiles: Vec<String> =
        sqlx::query_scalar("select email from profiles order by email").fetch_all(&users).await.unwrap();
    assert_eq!(profiles, emails);
    let messages: i64 = sqlx::query_scalar("select count(*) from messages").fetch_one(&notifications).await.unwrap();
    assert_eq!(messages, 3, "each recorded once");
    let files = std::fs::read_dir(&mail_dir).unwrap().count();
    assert_eq!(files, 3, "one email each");

    testkit::procs::signal_group(&redis_again, 9);
    redis_again.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
