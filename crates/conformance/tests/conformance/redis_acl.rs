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

/// `ACL DRYRUN user command args…`: "OK" when the user may run it, else Redis's reason.
async fn dry_run(admin: &mut redis::aio::ConnectionManager, user: &str, command: &[&str]) -> String {
    let mut cmd = redis::cmd("ACL");
    cmd.arg("DRYRUN").arg(user);
    for arg in command {
        cmd.arg(*arg);
    }
    match cmd.query_async::<String>(admin).await {
        Ok(answer) => answer,
        Err(error) => error.to_string(),
    }
}

/// The review's probes (f5592e3 M4) and their controls, for every service's user: no one may
/// pause, kill or list clients; a stream is changed only by its producer's XADD; a reader of a
/// stream may not delete, overwrite, expire or trim it, nor destroy or move a group of it; and
/// what each must do (sign in, name its connection, read and acknowledge its streams, add to its
/// own stream and its dead letters) stays allowed.
#[tokio::test]
async fn no_service_user_can_freeze_redis_or_destroy_a_stream_it_does_not_produce() {
    let prefix = testkit::redis_prefix();
    let services: Vec<(&str, String)> =
        service_kit::SERVICES.iter().map(|s| (s.name, format!("pw-{}", s.name))).collect();
    let mut admin = admin().await;
    redis_acl::apply(&mut admin, &prefix, &services).await.unwrap();
    let mut failures = Vec::new();
    let mut expect = |user: &str, command: &[&str], allowed: bool, answer: String| {
        if (answer == "OK") != allowed {
            failures
                .push(format!("{user} {command:?}: {answer} (expected {})", if allowed { "OK" } else { "refused" }));
        }
    };
    for spec in service_kit::SERVICES {
        let user = redis_acl::user_name(&prefix, spec.name);
        let gateway_user = redis_acl::user_name(&prefix, service_kit::fleet::GATEWAY);
        for command in [
            &["CLIENT", "PAUSE", "600000", "ALL"][..],
            &["CLIENT", "KILL", "USER", gateway_user.as_str()],
            &["CLIENT", "LIST"],
            &["CLIENT", "NO-EVICT", "on"],
            &["CLIENT", "UNPAUSE"],
            &["CONFIG", "SET", "maxmemory", "1"],
            &["FLUSHALL"],
            &["KEYS", "*"],
            &["ACL", "LIST"],
        ] {
            expect(&user, command, false, dry_run(&mut admin, &user, command).await);
        }
        for command in [&["PING"][..], &["CLIENT", "SETNAME", "x"], &["CLIENT", "ID"], &["CLUSTER", "SLOTS"]] {
            expect(&user, command, true, dry_run(&mut admin, &user, command).await);
        }
        let reads = redis_acl::CONSUMES.iter().find(|(c, _)| *c == spec.name).map(|(_, s)| *s).unwrap_or_default();
        for producer in redis_acl::PRODUCES {
            let stream = events::stream_name(&prefix, producer);
            let own = *producer == spec.name;
            for command in [
                &["DEL", stream.as_str()][..],
                &["UNLINK", stream.as_str()],
                &["SET", stream.as_str(), "x"],
                &["PEXPIRE", stream.as_str(), "1"],
                &["EXPIRE", stream.as_str(), "1"],
                &["XDEL", stream.as_str(), "0-1"],
                &["XGROUP", "DESTROY", stream.as_str(), "payment"],
                &["XGROUP", "SETID", stream.as_str(), "payment", "$"],
                &["XGROUP", "DELCONSUMER", stream.as_str(), "payment", "p1"],
                &["RENAME", stream.as_str(), "elsewhere"],
            ] {
                expect(&user, command, false, dry_run(&mut admin, &user, command).await);
            }
            // Only the producer adds to its stream and trims it (its relay, by age).
            for command in [&["XADD", stream.as_str(), "*", "f", "v"][..], &["XTRIM", stream.as_str(), "MAXLEN", "0"]] {
                expect(&user, command, own, dry_run(&mut admin, &user, command).await);
            }
            let reader = reads.contains(producer);
            let group = spec.name;
            for command in [
                &["XREADGROUP", "GROUP", group, "c1", "COUNT", "1", "STREAMS", stream.as_str(), ">"][..],
                &["XACK", stream.as_str(), group, "0-1"],
                &["XAUTOCLAIM", stream.as_str(), group, "c1", "60000", "0-0"],
                &["XGROUP", "CREATE", stream.as_str(), group, "0", "MKSTREAM"],
            ] {
                expect(&user, command, reader, dry_run(&mut admin, &user, command).await);
            }
        }
        if !reads.is_empty() {
            let dead = events::dead_letter_stream(&prefix, spec.name);
            let add = &["XADD", dead.as_str(), "*", "f", "v"][..];
            expect(&user, add, true, dry_run(&mut admin, &user, add).await);
            for command in [&["DEL", dead.as_str()][..], &["XTRIM", dead.as_str(), "MAXLEN", "0"]] {
                expect(&user, command, false, dry_run(&mut admin, &user, command).await);
            }
        }
    }
    // Every user still connects and answers PING (redis-rs's connection set-up included).
    for spec in service_kit::SERVICES {
        let mut connection = as_service(&prefix, spec.name).await;
        let _: String = redis::cmd("PING").query_async(&mut connection).await.unwrap();
    }
    assert!(failures.is_empty(), "{} wrong answer(s):\n{}", failures.len(), failures.join("\n"));
}
