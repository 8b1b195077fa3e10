//! One Redis ACL user per service (reviews M8 and f5592e3 M4): each may touch only its own keys,
//! with only the commands it uses. Only auth writes the revocation list, the gateway only reads
//! it; only a stream's producer may XADD to it; a consumer reads and acknowledges its streams
//! (in a selector of its own, so the data commands of its root never reach a stream: no DEL,
//! SET, EXPIRE or XTRIM of it) and writes only its own dead letters; nobody else reaches the
//! sign-in throttle; no service may pause, kill or list other clients. The bootstrap (`cargo
//! xtask up`, the fleet test) and the conformance test apply these rules the same way.
//!
//! What ACLs cannot do: scope a consumer group. A reader of a stream may read, acknowledge or
//! claim entries in any group of that stream (ARCHITECTURE.md says what that leaves open).

use aws_lc_rs::digest;
use redis::aio::ConnectionLike;

use crate::fleet::{
    ADMIN, ANALYTICS, AUTH, CART, CMS, GATEWAY, INVENTORY, MEDIA, NOTIFICATION, ORDER, PAYMENT, PRODUCT, SEARCH, USER,
};

/// The services that publish a stream of their own (`events.<service>`, through their relay).
pub const PRODUCES: &[&str] = &[AUTH, PRODUCT, INVENTORY, ORDER, PAYMENT, MEDIA, CMS];

/// The streams each consuming service reads: what its `FleetService::CONSUMES` declares (the
/// conformance suite holds the two together).
pub const CONSUMES: &[(&str, &[&str])] = &[
    (USER, &[AUTH]),
    (NOTIFICATION, &[AUTH, ORDER]),
    (PRODUCT, &[INVENTORY, ORDER, MEDIA, AUTH]),
    (ORDER, &[PAYMENT, AUTH, INVENTORY]),
    (PAYMENT, &[ORDER]),
    (INVENTORY, &[ORDER]),
    (CART, &[ORDER, AUTH]),
    (SEARCH, &[PRODUCT, INVENTORY, MEDIA]),
    (ANALYTICS, &[AUTH, INVENTORY, ORDER, PAYMENT, PRODUCT]),
    // Every producer's AUDIT_RECORDED, for the audit log.
    (ADMIN, PRODUCES),
];

/// Commands every service may run: signing in, naming its connection, PING (readiness), and
/// what a cluster client asks to learn the topology and follow a slot's move. Nothing of
/// `@connection` beyond that: `CLIENT PAUSE`, `KILL`, `LIST`, `NO-EVICT` would let one service
/// freeze Redis for the fleet or cut another's connections. (redis-rs also sends `CLIENT
/// SETINFO` when it connects and ignores the answer; it is left refused, since Redis 7.0 does
/// not know the subcommand and would refuse the rule.)
pub const BASE: &[&str] = &[
    "-@all",
    "+auth",
    "+hello",
    "+ping",
    "+client|setname",
    "+client|getname",
    "+client|id",
    "+cluster|slots",
    "+cluster|shards",
    "+cluster|nodes",
    "+asking",
    "+readonly",
];

/// What a consumer may do on the streams it reads: its group's reads, acknowledgements,
/// claims of its dead consumers' entries and the group's creation; never XADD, XDEL, XTRIM,
/// XGROUP DESTROY|SETID|DELCONSUMER or a data command.
pub const CONSUMER_COMMANDS: &[&str] =
    &["+xreadgroup", "+xack", "+xgroup|create", "+xpending", "+xclaim", "+xautoclaim", "+xinfo|groups"];

/// The ACL user of `service` under key prefix `prefix` (letters, digits and `_` only, so it
/// can stand in a `redis://user:password@host` URL).
pub fn user_name(prefix: &str, service: &str) -> String {
    let prefix: String = prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("shopfleet_{prefix}{service}")
}

/// The password of a service's Redis user, derived from its own secret internal key, so the
/// bootstrap and the service agree without another secret to distribute.
pub fn password(internal_private_key_pem: &str) -> String {
    let digest = digest::digest(&digest::SHA256, format!("redis-acl:{internal_private_key_pem}").as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `ACL SETUSER` arguments after the user name: what `service` may do under `prefix`.
pub fn rules(prefix: &str, service: &str, password: &str) -> Vec<String> {
    let mut rules: Vec<String> = ["reset", "on", "resetkeys", "resetchannels"].map(str::to_owned).to_vec();
    rules.push(format!(">{password}"));
    rules.extend(BASE.iter().map(|r| (*r).to_owned()));
    let key = |pattern: &str| format!("~{prefix}{pattern}");
    match service {
        AUTH => {
            rules.extend([key("login:*"), format!("%W~{prefix}revoked:*")]);
            rules.extend(
                ["+evalsha", "+eval", "+script|load", "+get", "+set", "+setex", "+incr", "+decr", "+expire", "+ttl"]
                    .map(str::to_owned),
            );
            rules.extend(["+del", "+exists"].map(str::to_owned));
        }
        PRODUCT => {
            // The response cache: entries and their generation (`cache.rs`).
            rules.push(key("cache:*"));
            rules.extend(["+evalsha", "+eval", "+script|load", "+get", "+set", "+incr"].map(str::to_owned));
        }
        CART => {
            // One hash per cart, changed only by its scripts (`store.rs`).
            rules.push(key("cart:*"));
            rules.extend(
                ["+evalsha", "+eval", "+script|load", "+hget", "+hset", "+hkeys", "+hexists", "+hgetall", "+hdel"]
                    .map(str::to_owned),
            );
            // The refused-discount counter beside each cart (`store::discount_refused`).
            rules.extend(["+del", "+pexpire", "+incr", "+get", "+pttl"].map(str::to_owned));
        }
        GATEWAY => {
            rules.extend([key("rl:*"), format!("%R~{prefix}revoked:*")]);
            rules.extend(["+evalsha", "+eval", "+script|load", "+get", "+set", "+exists", "+time"].map(str::to_owned));
        }
        _ => {}
    }
    if PRODUCES.contains(&service) {
        // Its own stream is the one it may add to; a selector, so that the streams it consumes
        // stay read-only for it.
        // XTRIM: the relay trims entries past their retention (`RelayConfig::stream_retention`).
        rules.push(format!("(~{} +xadd +xtrim)", events::stream_name(prefix, service)));
    }
    if let Some((_, streams)) = CONSUMES.iter().find(|(consumer, _)| *consumer == service) {
        // One selector with every stream it reads (one XREADGROUP names them all) and only the
        // consumer's commands, apart from the root's keys and commands.
        let keys: Vec<String> =
            streams.iter().map(|stream| format!("~{}", events::stream_name(prefix, stream))).collect();
        rules.push(format!("({} {})", keys.join(" "), CONSUMER_COMMANDS.join(" ")));
        // Its own dead letters are the one stream it may add to (search has a group per
        // replica, `search.<replica>`, and dead letters for each).
        let dead = events::dead_letter_stream(prefix, service);
        rules.push(format!("(~{dead} ~{dead}.* +xadd)"));
    }
    rules
}

/// An ACL file (`aclfile` in redis.conf) holding the same users, so a Redis that restarts has
/// them before anyone connects, and the default user (the administrator) behind
/// `admin_password`. Passwords are stored as their SHA-256 (`#<hex>`), never in clear.
pub fn acl_file(prefix: &str, services: &[(&str, String)], admin_password: &str) -> String {
    let hashed = |password: &str| {
        let digest = digest::digest(&digest::SHA256, password.as_bytes());
        format!("#{}", digest.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    let mut text = format!("user default on {} ~* &* +@all\n", hashed(admin_password));
    for (service, password) in services {
        let rules: Vec<String> = rules(prefix, service, password)
            .into_iter()
            .map(|rule| if rule == format!(">{password}") { hashed(password) } else { rule })
            .collect();
        text.push_str(&format!("user {} {}\n", user_name(prefix, service), rules.join(" ")));
    }
    text
}

/// Creates (or resets) the users of `services` with their passwords.
pub async fn apply(
    admin: &mut impl ConnectionLike,
    prefix: &str,
    services: &[(&str, String)],
) -> redis::RedisResult<()> {
    for (service, password) in services {
        let mut command = redis::cmd("ACL");
        command.arg("SETUSER").arg(user_name(prefix, service));
        for rule in rules(prefix, service, password) {
            command.arg(rule);
        }
        command.query_async::<()>(admin).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_auth_writes_revocations_and_the_gateway_only_reads_them() {
        let auth = rules("p:", AUTH, "pw");
        assert!(auth.contains(&"%W~p:revoked:*".to_owned()));
        let gateway = rules("p:", GATEWAY, "pw");
        assert!(gateway.contains(&"%R~p:revoked:*".to_owned()));
        let cart = rules("p:", CART, "pw");
        assert!(!cart.iter().any(|r| r.contains("revoked") || r.contains("login")));
        assert!(
            cart.contains(&"~p:cart:*".to_owned())
                && cart.contains(&"(~{p:events}.dead.cart ~{p:events}.dead.cart.* +xadd)".to_owned())
        );
        assert!(!cart.contains(&"+xadd".to_owned()), "cart adds to no stream but its dead letters");
        assert!(!cart.iter().any(|r| r.starts_with("~{p:events}")), "no stream among cart's root keys");
    }

    #[test]
    fn no_service_gets_a_whole_category_but_all_removed() {
        for spec in crate::fleet::SERVICES {
            for rule in rules("", spec.name, "pw") {
                assert!(!rule.contains("+@"), "{}: {rule}", spec.name);
            }
        }
    }

    #[test]
    fn a_consumer_adds_only_to_its_own_dead_letters() {
        let user = rules("", USER, "pw");
        assert!(user.contains(&format!("(~{{events}}.auth {})", CONSUMER_COMMANDS.join(" "))));
        assert!(!user.contains(&"+xadd".to_owned()));
        assert!(user.contains(&"(~{events}.dead.user ~{events}.dead.user.* +xadd)".to_owned()));
    }
}
