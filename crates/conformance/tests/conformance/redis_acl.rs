//! One Redis user per service (review M8), on the test Redis with a fresh key prefix: what a
//! service may not do is refused by Redis itself, and what it must do still works.

use service_kit::fleet::{AUTH, CART, GATEWAY, NOTIFICATION};
use service_kit::redis_acl;

/// The test Redis's admin connection.
async fn admin() -> redis::aio::ConnectionManager {
    redis::aio::ConnectionManager::new(redis::Client::open(testkit::env().redis.url.as_str()).unwrap()).await.unwrap()
}

/// A connection as `service`'s user under `prefix`.
async fn as_service(prefix: &str, service: &str) -> redis::aio::MultiplexedConnection {
    let url = testkit::env()
        .redis
        .url
        .replace("redis://", &format!("redis://{}:pw-{service}@", redis_acl::user_name(prefix, service)));
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

fn refused(result: redis::RedisResult<redis::Value>) -> bool {
    match result {
        Err(error) => {
            let text = format!("{error} {:?}", error.code());
            text.contains("NOPERM") || text.to_lowercase().contains("permission")
        }
        Ok(value) => {
            eprintln!("not refused: {value:?}");
            false
        }
    }
}

#[tokio::test]
async fn each_service_reaches_only_its_own_keys_and_commands() {
    let prefix = testkit::redis_prefix();
    let services: Vec<(&str, String)> =
        [AUTH, GATEWAY, NOTIFICATION, CART].iter().map(|s| (*s, format!("pw-{s}"))).collect();
    redis_acl::apply(&mut admin().await, &prefix, &services).await.unwrap();
    let key = |k: &str| format!("{prefix}{k}");
    let auth_stream = events::stream_name(&prefix, AUTH);
    let revoked = |jti: &str| auth_jwt::revocation::token_key(&prefix, "u1", jti);

    // Auth writes a revocation, counts a sign-in and publishes its events.
    let mut auth = as_service(&prefix, AUTH).await;
    let _: () = redis::cmd("SETEX").arg(revoked("j1")).arg(60).arg(1).query_async(&mut auth).await.unwrap();
    let _: i64 = redis::cmd("INCR").arg(key("login:{x}:all")).query_async(&mut auth).await.unwrap();
    let _: String =
        redis::cmd("XADD").arg(&auth_stream).arg("*").arg("envelope").arg("{}").query_async(&mut auth).await.unwrap();

    // The cart cannot clear a revocation or a throttle, nor forge auth's events.
    let mut cart = as_service(&prefix, CART).await;
    assert!(refused(redis::cmd("DEL").arg(revoked("j1")).query_async(&mut cart).await));
    assert!(refused(redis::cmd("DEL").arg(key("login:{x}:all")).query_async(&mut cart).await));
    assert!(refused(redis::cmd("XADD").arg(&auth_stream).arg("*").arg("f").arg("v").query_async(&mut cart).await));
    let _: String = redis::cmd("PING").query_async(&mut cart).await.unwrap();

    // The gateway reads the revocation list through its script but cannot change it.
    let mut gateway = as_service(&prefix, GATEWAY).await;
    assert!(refused(redis::cmd("DEL").arg(revoked("j1")).query_async(&mut gateway).await));
    assert!(refused(redis::cmd("SET").arg(revoked("j2")).arg(1).query_async(&mut gateway).await));
    let exists: i64 = redis::cmd("EXISTS").arg(revoked("j1")).query_async(&mut gateway).await.unwrap();
    assert_eq!(exists, 1);

    // A consumer reads and acknowledges auth's stream, adds only to its own dead letters.
    let mut notification = as_service(&prefix, NOTIFICATION).await;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&auth_stream)
        .arg("notification")
        .arg("0")
        .query_async(&mut notification)
        .await
        .unwrap();
    let read: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("notification")
        .arg("n1")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&auth_stream)
        .arg(">")
        .query_async(&mut notification)
        .await
        .unwrap();
    assert!(!matches!(read, redis::Value::Nil), "the consumer reads");
    assert!(refused(
        redis::cmd("XADD").arg(&auth_stream).arg("*").arg("f").arg("v").query_async(&mut notification).await
    ));
    let _: String = redis::cmd("XADD")
        .arg(events::dead_letter_stream(&prefix, NOTIFICATION))
        .arg("*")
        .arg("f")
        .arg("v")
        .query_async(&mut notification)
        .await
        .unwrap();
}
