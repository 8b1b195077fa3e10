//! The crash test: shoppers run the whole saga through NGINX (cart → order → payment →
//! sandbox confirmation → webhook → paid), some cancel, some let their orders expire, while the
//! order, payment and inventory services are killed with SIGKILL at random moments and started
//! again. Afterwards every order must be paid with committed stock, or expired/cancelled with
//! released stock (a payment that succeeded too late refunded), no payment recorded twice and
//! no event applied twice: `cargo xtask audit`'s checks, polled until the shop has settled.
//! `CRASH_ORDERS` sets the size (40 in `cargo xtask test`, 0 skips it), `CRASH_SEED` replays a
//! run's random choices.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::json;
use service_kit::fleet::{GATEWAY, INVENTORY, ORDER, PAYMENT};
use sqlx::Connection as _;
use tokio::task::JoinSet;

use crate::dev::fleet::Fleet;
use crate::dev::shopper::Shopper;

/// What a shopper means to do with an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    /// Pay it with the card that succeeds.
    Pay,
    /// Try the declining card, then walk away (it expires).
    Decline,
    /// Cancel it before paying.
    Cancel,
    /// Walk away (it expires).
    Abandon,
}

impl Fate {
    fn of(n: usize) -> Self {
        match n % 10 {
            7 => Fate::Decline,
            8 => Fate::Cancel,
            9 => Fate::Abandon,
            _ => Fate::Pay,
        }
    }

    /// Where an order with this fate may end up.
    fn allowed(self) -> &'static [&'static str] {
        match self {
            // Paid in time, or it expired first (a late success is then refunded).
            Fate::Pay => &["paid", "expired"],
            Fate::Cancel => &["cancelled", "expired"],
            Fate::Decline | Fate::Abandon => &["expired"],
        }
    }
}

/// One shopper's orders, placed one after the other: (order id, fate) of each placed order.
async fn journeys(
    shopper: Shopper,
    name: usize,
    skus: Vec<String>,
    count: usize,
    seed: u64,
) -> anyhow::Result<Vec<(String, Fate)>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut placed = Vec::new();
    for n in 0..count {
        let fate = Fate::of(name + n * 3);
        let sku = &skus[rng.random_range(0..skus.len())];
        let (status, body) = shopper.call(Method::DELETE, "/carts/current", None, None).await?;
        ensure!(status == 200 || status == 204, "empty the cart: {status} {body}");
        let line = json!({"sku": sku, "quantity": rng.random_range(1..=2)});
        let (status, body) = shopper.call(Method::POST, "/carts/current/items", None, Some(line)).await?;
        ensure!(status == 200, "add {sku}: {status} {body}");
        let key = format!("crash-{name}-{n}-{seed}");
        let place = json!({"shipping_address_id": shopper.address_id});
        let (status, order) = shopper.call(Method::POST, "/orders", Some(&key), Some(place)).await?;
        if status == 409 && order["code"] == "out_of_stock" {
            continue;
        }
        ensure!(status == 201 || status == 200, "place an order: {status} {order}");
        let order_id = order["id"].as_str().context("an order id")?.to_owned();
        placed.push((order_id.clone(), fate));
        match fate {
            Fate::Pay | Fate::Decline => {
                let pay = json!({"order_id": order_id});
                let (status, payment) = shopper.call(Method::POST, "/payments", Some(&key), Some(pay)).await?;
                // 409: the order already expired (it took that long to get here).
                if status == 409 {
                    continue;
                }
                ensure!(status == 201 || status == 200, "start paying: {status} {payment}");
                let path = format!("/payments/{}/confirm", payment["payment_id"].as_str().context("a payment id")?);
                let card = if fate == Fate::Pay { "4242424242424242" } else { "4000000000000002" };
                let (status, body) = shopper.call(Method::POST, &path, None, Some(json!({"test_card": card}))).await?;
                // 409: a confirmation before the crash got through already (or the order ended).
                ensure!(status == 202 || status == 409, "confirm: {status} {body}");
            }
            Fate::Cancel => {
                let path = format!("/orders/{order_id}/cancel");
                let (status, body) = shopper.call(Method::POST, &path, None, Some(json!({}))).await?;
                ensure!(status == 200 || status == 409, "cancel: {status} {body}");
            }
            Fate::Abandon => {}
        }
    }
    Ok(placed)
}

/// Settles the shop (unpaid orders expire, late webhooks are reconciled, refunds go out) until
/// every invariant holds, then checks each placed order ended as its journey meant.
async fn settle(database: &str, db: &mut sqlx::PgConnection, placed: &[(String, Fate)]) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let ids: Vec<uuid::Uuid> = placed.iter().map(|(id, _)| id.parse()).collect::<Result<_, _>>()?;
    let statuses = loop {
        let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as("select id, status from orders.orders where id = any($1)")
            .bind(&ids)
            .fetch_all(&mut *db)
            .await?;
        let violations = crate::ops::audit::audit(database, Duration::ZERO).await?;
        let waiting = rows.iter().filter(|(_, status)| status == "awaiting_payment").count();
        if waiting == 0 && violations.is_empty() {
            break rows;
        }
        if Instant::now() > deadline {
            eprintln!("    {waiting} orders still awaiting payment");
            return crate::ops::audit::report(&violations, "the crash test's shop");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let status_of: BTreeMap<uuid::Uuid, String> = statuses.into_iter().collect();
    let mut tally: BTreeMap<(Fate, &str), usize> = BTreeMap::new();
    for ((id, fate), uuid) in placed.iter().zip(&ids) {
        let status = status_of.get(uuid).with_context(|| format!("order {id} is missing"))?;
        ensure!(fate.allowed().contains(&status.as_str()), "order {id} meant to {fate:?} ended {status}");
        *tally.entry((*fate, fate.allowed().iter().find(|s| **s == status).copied().unwrap_or("?"))).or_default() += 1;
    }
    eprintln!("    outcomes {tally:?}");
    Ok(())
}

/// Runs the crash test on a running fleet: `orders` orders by eight shoppers.
pub(crate) async fn run(fleet: &mut Fleet, orders: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let seed: u64 = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64
    });
    eprintln!("==> crash test: {orders} orders, kill -9 of order, payment and inventory at random (CRASH_SEED={seed})");
    fleet
        .options
        .extra_env
        .extend(crate::dev::shopper::LOADED_SHOP.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    for name in [GATEWAY, ORDER, PAYMENT, INVENTORY] {
        fleet.crash_and_restart(name)?;
    }
    fleet.ready(Duration::from_secs(60)).await?;
    // The gateway's limiter state (in Redis) outlives it: what the walk before spent under the
    // strict limits would still hold these shoppers back.
    fleet.forget_rate_limits().await?;

    let database = fleet.admin_database_url();
    let mut db = sqlx::PgConnection::connect(&database).await?;
    let skus: Vec<String> =
        sqlx::query_scalar("select sku from inventory.stock where on_hand - reserved >= 50 order by sku limit 40")
            .fetch_all(&mut db)
            .await?;
    ensure!(skus.len() >= 10, "the demo stock has SKUs to buy: {}", skus.len());

    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?;
    let shoppers = orders.clamp(1, 8);
    let mut signed_up = Vec::new();
    for _ in 0..shoppers {
        signed_up.push(Shopper::sign_up(fleet, &http).await?);
    }
    let mut tasks = JoinSet::new();
    for (name, shopper) in signed_up.into_iter().enumerate() {
        let count = orders / shoppers + usize::from(name < orders % shoppers);
        tasks.spawn(journeys(shopper, name, skus.clone(), count, seed.wrapping_add(name as u64)));
    }

    let mut rng = StdRng::seed_from_u64(seed);
    let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
    let mut placed = Vec::new();
    while !tasks.is_empty() {
        let pause = Duration::from_millis(rng.random_range(800..2500));
        tokio::select! {
            Some(done) = tasks.join_next() => placed.extend(done??),
            () = tokio::time::sleep(pause) => {
                let victim = [ORDER, PAYMENT, INVENTORY][rng.random_range(0..3)];
                fleet.crash_and_restart(victim)?;
                *kills.entry(victim).or_default() += 1;
                fleet.ready(Duration::from_secs(60)).await?;
            }
        }
    }
    eprintln!("    {} orders placed in {:.0?}; killed {kills:?}", placed.len(), started.elapsed());
    ensure!(placed.len() * 10 >= orders * 9, "most orders were placed ({} of {orders})", placed.len());

    settle(&database, &mut db, &placed).await?;
    let refunded: i64 =
        sqlx::query_scalar("select count(*) from payments.refunds where automatic and status = 'succeeded'")
            .fetch_one(&mut db)
            .await?;
    eprintln!("    automatic refunds of late successes: {refunded}");
    crate::ops::audit::report(&[], "the crash test's shop")?;
    eprintln!("    crash test passed in {:.0?}", started.elapsed());
    Ok(())
}
