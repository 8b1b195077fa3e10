//! `cargo xtask audit [DATABASE_URL]`: the checkout's invariants checked across the order,
//! payment and inventory schemas, read-only (one read-only transaction, so one snapshot), by
//! default against the cluster `cargo xtask up` runs. Every violation is printed; the exit code
//! is non-zero when there is one. The crash test and `bench checkout` run it after their runs.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::{Connection, PgConnection};

/// The schemas of the three services (their defaults, or `DATABASE_SCHEMA_<NAME>`).
struct Schemas {
    orders: String,
    payments: String,
    inventory: String,
}

impl Schemas {
    fn of_this_deployment() -> Self {
        let schema =
            |name: &str| service_kit::fleet::spec(name).and_then(|s| s.schema_name()).expect("a service with a schema");
        Self {
            orders: schema(service_kit::fleet::ORDER),
            payments: schema(service_kit::fleet::PAYMENT),
            inventory: schema(service_kit::fleet::INVENTORY),
        }
    }
}

/// One invariant: what it says, and the query that lists its violations (one text per row).
struct Check {
    says: &'static str,
    sql: String,
}

fn checks(s: &Schemas, grace: Duration) -> Vec<Check> {
    let mut checks = stock_checks(&s.inventory);
    checks.extend(order_checks(s, grace.as_secs()));
    checks.extend(after_paid_checks(s));
    checks.extend(money_checks(s, grace.as_secs()));
    checks
}

/// Inventory's own books: levels, ledger and holds agree.
fn stock_checks(i: &str) -> Vec<Check> {
    vec![
        Check {
            says: "stock is never negative and never more reserved than on hand",
            sql: format!(
                "select sku || ': on hand ' || on_hand || ', reserved ' || reserved from {i}.stock \
                 where on_hand < 0 or reserved < 0 or reserved > on_hand"
            ),
        },
        Check {
            says: "the movements ledger adds up to every SKU's levels",
            sql: format!(
                "select s.sku || ': levels ' || s.on_hand || '/' || s.reserved || ', ledger ' || \
                        coalesce(sum(m.on_hand_delta), 0) || '/' || coalesce(sum(m.reserved_delta), 0) \
                 from {i}.stock s left join {i}.movements m on m.sku = s.sku group by s.sku, s.on_hand, s.reserved \
                 having s.on_hand <> coalesce(sum(m.on_hand_delta), 0) or s.reserved <> coalesce(sum(m.reserved_delta), 0)"
            ),
        },
        Check {
            says: "what is reserved is exactly what held reservations hold",
            sql: format!(
                "with held as (select l->>'sku' as sku, sum((l->>'quantity')::bigint) as quantity \
                     from {i}.reservations r, jsonb_array_elements(r.lines) l where r.status = 'held' group by 1) \
                 select s.sku || ': reserved ' || s.reserved || ', held ' || coalesce(h.quantity, 0) \
                 from {i}.stock s left join held h on h.sku = s.sku where s.reserved <> coalesce(h.quantity, 0)"
            ),
        },
        Check {
            says: "each reservation moved stock once per step (reserve, commit, release, restock)",
            sql: format!(
                "select reference || ' ' || sku || ': ' || reason || ' ' || count(*) || ' times' from {i}.movements \
                 where reason in ('reserve', 'commit', 'release', 'restock') group by reference, sku, reason having count(*) > 1"
            ),
        },
    ]
}

/// Orders against their payments and reservations.
fn order_checks(s: &Schemas, grace: u64) -> Vec<Check> {
    let Schemas { orders: o, payments: p, inventory: i } = s;
    let was_paid = "('paid', 'fulfilling', 'shipped', 'delivered', 'refunded', 'partially_refunded')";
    vec![
        Check {
            says: "every paid order has one succeeded payment of its total",
            sql: format!(
                "select o.number || ' is ' || o.status || ', its payment ' || coalesce(p.status || ' of ' || p.amount_minor, 'missing') \
                 from {o}.orders o left join {p}.payments p on p.order_id = o.id \
                 where o.status in {was_paid} and (p.id is null or p.status <> 'succeeded' or p.amount_minor <> o.total_minor)"
            ),
        },
        Check {
            says: "every paid order's stock is committed",
            sql: format!(
                "select o.number || ' is ' || o.status || ', its reservation ' || coalesce(r.status, 'missing') \
                 from {o}.orders o left join {i}.reservations r on r.id = o.id \
                 where o.status in {was_paid} and (r.id is null or r.status <> 'committed')"
            ),
        },
        Check {
            says: "every expired or cancelled order's stock is released",
            sql: format!(
                "select o.number || ' is ' || o.status || ', its reservation ' || r.status \
                 from {o}.orders o join {i}.reservations r on r.id = o.id \
                 where o.status in ('expired', 'cancelled') and r.status <> 'released'"
            ),
        },
        Check {
            says: "no money is kept for an order that ended unpaid (a late success is refunded)",
            sql: format!(
                "select o.number || ' is ' || o.status || ' but ' || (p.amount_minor - p.refunded_minor) || ' of its payment is kept' \
                 from {o}.orders o join {p}.payments p on p.order_id = o.id \
                 where o.status in ('expired', 'cancelled') and p.status = 'succeeded' and p.refunded_minor < p.amount_minor \
                   and not exists (select 1 from {p}.refunds r where r.payment_id = p.id and r.status = 'requested')"
            ),
        },
        Check {
            says: "an order awaiting payment has its stock held and no succeeded payment",
            sql: format!(
                "select o.number || ': reservation ' || coalesce(r.status, 'missing') || ', payment ' || coalesce(p.status, 'none') \
                 from {o}.orders o left join {i}.reservations r on r.id = o.id left join {p}.payments p on p.order_id = o.id \
                 where o.status = 'awaiting_payment' and o.updated_at < now() - make_interval(secs => {grace}) \
                   and (r.status is distinct from 'held' or p.status = 'succeeded')"
            ),
        },
        Check {
            says: "no order waits for payment past its deadline (the expiry job runs)",
            sql: format!(
                "select number || ': deadline ' || payment_deadline from {o}.orders \
                 where status = 'awaiting_payment' and payment_deadline < now() - make_interval(secs => {grace})"
            ),
        },
    ]
}

/// After "paid": every paid order's invoice, numbers without gaps, and parcels within what was
/// ordered.
fn after_paid_checks(s: &Schemas) -> Vec<Check> {
    let o = &s.orders;
    vec![
        Check {
            says: "every order that was paid has its invoice",
            sql: format!(
                "select o.number || ' was paid, no invoice' from {o}.orders o \
                 where exists (select 1 from {o}.order_transitions t where t.order_id = o.id and t.to_status = 'paid') \
                   and not exists (select 1 from {o}.invoices i where i.order_id = o.id and i.kind = 'invoice')"
            ),
        },
        Check {
            says: "invoice numbers have no gaps within a year",
            sql: format!(
                "select kind || ' ' || year || ': ' || count(*) || ' documents numbered ' || min(sequence) || ' to ' || max(sequence) \
                 from {o}.invoices group by kind, year having min(sequence) <> 1 or max(sequence) <> count(*)"
            ),
        },
        Check {
            says: "no order ships more of a SKU than it ordered",
            sql: format!(
                "with sent as (select f.order_id, fl.sku, sum(fl.quantity) as quantity from {o}.fulfillment_lines fl \
                     join {o}.fulfillments f on f.id = fl.fulfillment_id group by 1, 2), \
                 bought as (select order_id, sku, sum(quantity) as quantity from {o}.order_lines group by 1, 2) \
                 select o.number || ' ' || s.sku || ': shipped ' || s.quantity || ', ordered ' || coalesce(b.quantity, 0) \
                 from sent s join {o}.orders o on o.id = s.order_id \
                 left join bought b on b.order_id = s.order_id and b.sku = s.sku where s.quantity > coalesce(b.quantity, 0)"
            ),
        },
        Check {
            says: "an order shipped in fulfillments is shipped only once every line went out",
            sql: format!(
                "select o.number || ' is ' || o.status || ' with ' || l.sku || ' not all shipped' \
                 from {o}.orders o join {o}.order_lines l on l.order_id = o.id \
                 where o.status in ('shipped', 'delivered') and exists (select 1 from {o}.fulfillments f where f.order_id = o.id) \
                   and l.quantity > coalesce((select sum(fl.quantity) from {o}.fulfillment_lines fl \
                       join {o}.fulfillments f on f.id = fl.fulfillment_id where f.order_id = o.id and fl.sku = l.sku), 0)"
            ),
        },
    ]
}

/// Payments, refunds and the orders' own record of them.
fn money_checks(s: &Schemas, grace: u64) -> Vec<Check> {
    let Schemas { orders: o, payments: p, .. } = s;
    vec![
        Check {
            says: "one payment per order, each for an order that exists",
            sql: format!(
                "select coalesce(o.number, p.order_id::text) || ': ' || count(*) || ' payments' \
                 from {p}.payments p left join {o}.orders o on o.id = p.order_id \
                 group by p.order_id, o.number having count(*) > 1 or o.number is null"
            ),
        },
        Check {
            says: "what a payment says was refunded is what its refunds add up to, within its amount",
            sql: format!(
                "select p.id || ': refunded ' || p.refunded_minor || ', refunds ' || coalesce(sum(r.amount_minor) filter (where r.status = 'succeeded'), 0) \
                 from {p}.payments p left join {p}.refunds r on r.payment_id = p.id group by p.id, p.refunded_minor, p.amount_minor \
                 having p.refunded_minor <> coalesce(sum(r.amount_minor) filter (where r.status = 'succeeded'), 0) \
                     or p.refunded_minor > p.amount_minor"
            ),
        },
        Check {
            says: "an order knows every refund of its payment",
            sql: format!(
                "select o.number || ': order says ' || o.refunded_minor || ' refunded, payment ' || p.refunded_minor \
                 from {o}.orders o join {p}.payments p on p.order_id = o.id \
                 where o.refunded_minor <> p.refunded_minor and p.updated_at < now() - make_interval(secs => {grace})"
            ),
        },
        Check {
            says: "each order took each step of its state machine once (events applied once)",
            sql: format!(
                "select o.number || ': ' || t.to_status || ' ' || count(*) || ' times' \
                 from {o}.order_transitions t join {o}.orders o on o.id = t.order_id \
                 where t.to_status <> 'partially_refunded' group by o.number, t.to_status having count(*) > 1"
            ),
        },
        Check {
            says: "an order's status is where its transitions lead",
            sql: format!(
                "select o.number || ' is ' || o.status || ', last transition to ' || coalesce(t.to_status, 'none') \
                 from {o}.orders o left join lateral (select to_status from {o}.order_transitions \
                     where order_id = o.id order by at desc, id desc limit 1) t on true \
                 where t.to_status is distinct from o.status"
            ),
        },
    ]
}

/// Runs every check in one read-only snapshot: the violations, each prefixed by what it breaks.
/// `grace` spares what may still be in flight (events not consumed yet, a job not run yet).
pub(crate) async fn audit(database_url: &str, grace: Duration) -> anyhow::Result<Vec<String>> {
    let mut connection =
        PgConnection::connect(database_url).await.with_context(|| format!("connect to {database_url}"))?;
    let schemas = Schemas::of_this_deployment();
    sqlx::query("begin transaction isolation level repeatable read read only").execute(&mut connection).await?;
    let mut violations = Vec::new();
    for check in checks(&schemas, grace) {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(check.sql.clone()))
            .fetch_all(&mut connection)
            .await
            .with_context(|| format!("check {:?}", check.says))?;
        violations.extend(rows.into_iter().map(|row| format!("{}: {row}", check.says)));
    }
    sqlx::query("rollback").execute(&mut connection).await?;
    Ok(violations)
}

/// Prints the audit's result; an error when anything is violated.
pub(crate) fn report(violations: &[String], checked: &str) -> anyhow::Result<()> {
    if violations.is_empty() {
        eprintln!("    audit of {checked}: every checkout invariant holds (0 violations)");
        return Ok(());
    }
    for violation in violations {
        eprintln!("    VIOLATION {violation}");
    }
    anyhow::bail!("audit of {checked}: {} violations", violations.len())
}

/// `cargo xtask audit [DATABASE_URL]`.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let url = match args.first() {
        Some(url) => url.clone(),
        None => {
            let port = std::env::var("PG_PORT").unwrap_or_else(|_| "5433".into());
            format!("postgres://postgres@127.0.0.1:{port}/{}", crate::dev::fleet::DATABASE)
        }
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let violations = runtime.block_on(audit(&url, Duration::from_secs(60)))?;
    report(&violations, &url)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exec(db: &testkit::TestDb, sql: &str) {
        let mut admin = db.admin().await;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut admin).await.unwrap();
    }

    #[tokio::test]
    async fn a_consistent_shop_passes_and_each_kind_of_break_is_named() {
        let db = testkit::TestDb::new().await;
        let url = db.admin_url();
        assert!(audit(&url, Duration::ZERO).await.unwrap().is_empty(), "an empty shop is consistent");
        // A paid order with its payment and committed stock, as the saga leaves it.
        exec(&db, "insert into inventory.stock (sku, on_hand, reserved) values ('MUG', 9, 0)").await;
        exec(
            &db,
            "insert into inventory.movements (id, sku, on_hand_delta, reserved_delta, reason, actor) \
                   values (gen_random_uuid(), 'MUG', 9, 0, 'set', 'test')",
        )
        .await;
        let order = "0190f1d2-0000-7000-8000-000000000001";
        exec(&db, &format!("insert into orders.orders (id, number, user_id, status, currency, subtotal_minor, shipping_minor, tax_minor, \
                   total_minor, shipping_address, contact_email, payment_deadline) values ('{order}', 'SF-1', gen_random_uuid(), 'paid', \
                   'EUR', 1000, 0, 160, 1000, '{{}}', 'a@example.com', now())")).await;
        // Placed, then paid (separate transactions, as in the services).
        for (from, to) in [("null", "'awaiting_payment'"), ("'awaiting_payment'", "'paid'")] {
            let sql = format!(
                "insert into orders.order_transitions (id, order_id, from_status, to_status, actor, reason) \
                 values (gen_random_uuid(), '{order}', {from}, {to}, 'test', 'test')"
            );
            exec(&db, &sql).await;
        }
        exec(
            &db,
            &format!(
                "insert into inventory.reservations (id, status, lines, expires_at) values ('{order}', 'committed', \
                   '[{{\"sku\": \"MUG\", \"quantity\": 1}}]', now())"
            ),
        )
        .await;
        exec(&db, &format!("insert into payments.payments (id, order_id, user_id, provider, provider_intent_id, amount_minor, currency, \
                   status, client_secret) values (gen_random_uuid(), '{order}', gen_random_uuid(), 'sandbox', 'pi_1', 1000, 'EUR', \
                   'succeeded', 's')")).await;
        exec(
            &db,
            &format!(
                "insert into orders.invoices (id, order_id, kind, year, sequence, number, document) \
                   values (gen_random_uuid(), '{order}', 'invoice', 2026, 1, 'INV-2026-000001', '{{}}')"
            ),
        )
        .await;
        let found = audit(&url, Duration::ZERO).await.unwrap();
        assert!(found.is_empty(), "{found:?}");

        // Now break it five ways: stock off the ledger, the payment short, a step taken twice, a
        // parcel of what was not ordered, a credit note numbered past a gap.
        let parcel = "0190f1d2-0000-7000-8000-0000000000f1";
        exec(
            &db,
            &format!(
                "insert into orders.fulfillments (id, order_id, carrier, tracking_number, actor) \
                   values ('{parcel}', '{order}', 'DHL', 'T1', 'test')"
            ),
        )
        .await;
        exec(
            &db,
            &format!(
                "insert into orders.fulfillment_lines (fulfillment_id, sku, quantity) values ('{parcel}', 'MUG', 1)"
            ),
        )
        .await;
        let gap = "insert into orders.invoices (id, order_id, kind, year, sequence, number, document, refund_id) \
                   values (gen_random_uuid(), '0190f1d2-0000-7000-8000-000000000001', 'credit_note', 2026, 2, 'CN-2', '{}', \
                   gen_random_uuid())";
        exec(&db, gap).await;
        exec(&db, "update inventory.stock set on_hand = 8").await;
        exec(&db, "update payments.payments set amount_minor = 999").await;
        exec(
            &db,
            &format!(
                "insert into orders.order_transitions (id, order_id, from_status, to_status, actor, reason) values \
                   (gen_random_uuid(), '{order}', 'awaiting_payment', 'paid', 'payment', 'paid again')"
            ),
        )
        .await;
        let found = audit(&url, Duration::ZERO).await.unwrap();
        for broken in [
            "the movements ledger adds up",
            "one succeeded payment of its total",
            "each order took each step",
            "no gaps within a year",
            "ships more of a SKU",
        ] {
            assert!(found.iter().any(|v| v.contains(broken)), "{broken:?} not found in {found:?}");
        }
        assert!(report(&found, "the test database").is_err());
    }
}
