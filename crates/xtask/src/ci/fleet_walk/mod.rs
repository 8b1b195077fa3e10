//! What the fleet test checks once everything runs, as named steps over one public-API client
//! (`dev::api`): a shopper signs up, browses and searches (`shop`), fills a cart, checks out and
//! pays (`shop`); staff refund, add a shipping method the cart chooses and ship an order in two
//! parcels, cancel a paid order (`fulfilment`), make a discount code, upload, publish, read analytics, the
//! dashboard, the back office and the audit log (`staff`); the edges hold (request ids in the
//! logs, NGINX's refusals, the OpenAPI document, every service's operational routes, the
//! gateway's trust in X-Real-IP, Redis users: `edges`); and the shopper's self-service ends
//! with the account deleted (`self_service`).

mod edges;
mod fulfilment;
mod self_service;
mod shop;
mod staff;

use std::time::{Duration, Instant};

use anyhow::ensure;
use serde_json::Value;

use crate::dev::api::Api;
use crate::dev::fleet::Fleet;

/// The walking shopper's password.
const PASSWORD: &str = "correct horse battery staple";

/// What the steps hand on to each other: the shopper, and what they made on the way.
struct Walk<'a> {
    fleet: &'a Fleet,
    api: Api,
    email: String,
    /// The shopper's access token.
    token: String,
    /// The request id of the signed-in listing, looked for in product's log.
    request_id: String,
    /// A product of the first category, with its variants.
    product: Value,
    /// Its first variant's SKU.
    sku: String,
    /// The order placed, as answered.
    order: Value,
    /// The order's Idempotency-Key (payment and refund keys derive from it).
    key: String,
    payment_id: String,
    /// The administrator's access token.
    staff: String,
    /// The image the administrator uploaded.
    media_id: String,
    /// The page the administrator published.
    page_slug: String,
}

impl Walk<'_> {
    fn order_id(&self) -> &str {
        self.order["id"].as_str().unwrap_or_default()
    }

    fn order_number(&self) -> &str {
        self.order["number"].as_str().unwrap_or_default()
    }
}

/// The whole walk, step by step.
pub(crate) async fn walk(fleet: &Fleet) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let mut walk = Walk::sign_up(fleet, Api::new(fleet, http)).await?;
    walk.browse().await?;
    walk.stock_and_search().await?;
    walk.guest_cart_merged().await?;
    walk.checkout().await?;
    walk.pay().await?;
    walk.saga().await?;
    walk.staff_refund().await?;
    walk.ship_in_parcels().await?;
    walk.staff_cancel().await?;
    walk.discount_code().await?;
    walk.upload().await?;
    walk.publish_page().await?;
    walk.analytics().await?;
    walk.dashboard().await?;
    walk.back_office().await?;
    walk.audit_log().await?;
    walk.request_id_logged().await?;
    walk.nginx_edges().await?;
    walk.openapi().await?;
    walk.operational_routes().await?;
    walk.self_service().await?;
    walk.gateway_trusts_only_nginx().await?;
    walk.redis_users().await
}

/// Polls `check` every `every`: `Some(value)` ends the wait, `None` waits on; past `within`,
/// the wait fails saying `what` and the last state `check` wrote into its `last`.
async fn until<T>(
    within: Duration,
    every: Duration,
    what: &str,
    mut check: impl AsyncFnMut(&mut String) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    loop {
        if let Some(value) = check(&mut last).await? {
            return Ok(value);
        }
        ensure!(Instant::now() < deadline, "{what}: {last}");
        tokio::time::sleep(every).await;
    }
}
