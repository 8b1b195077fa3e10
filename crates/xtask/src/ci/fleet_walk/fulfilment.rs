//! After "paid", through NGINX: staff add a shipping method, the shopper's cart lists it with its
//! price and keeps it as the choice, the order ships with it; staff ship that order in two
//! parcels (two shipping emails) and deliver each; and staff cancel another paid order, which
//! is refunded in full (a credit note against its invoice) and restocked.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use super::{Walk, until};
use crate::dev::api::answer;

impl Walk<'_> {
    /// Places the cart (with `quantity` more of the walk's SKU first, if given) under `key` and
    /// pays it with the sandbox card; the order as placed.
    async fn paid_order(&self, key: &str, quantity: Option<i64>) -> anyhow::Result<Value> {
        if let Some(quantity) = quantity {
            // The last paid order's lines leave the cart first (else this line would join one
            // about to be removed).
            let what = "the last paid order's lines never left the cart";
            until(Duration::from_secs(20), Duration::from_millis(200), what, async |last| {
                let (_, cart) = answer(self.api.get("/carts/current").bearer_auth(&self.token)).await?;
                *last = cart.to_string();
                Ok(cart["lines"].as_array().is_some_and(Vec::is_empty).then_some(()))
            })
            .await?;
            let add = self.api.post("/carts/current/items").bearer_auth(&self.token);
            let (status, cart) = answer(add.json(&json!({"sku": self.sku, "quantity": quantity}))).await?;
            ensure!(status == 200, "add to the cart: {status} {cart}");
        }
        let (_, addresses) = answer(self.api.get("/users/me/addresses").bearer_auth(&self.token)).await?;
        let address_id = addresses["items"][0]["id"].as_str().context("an address")?;
        let place = self.api.post("/orders").bearer_auth(&self.token).header("idempotency-key", key);
        let (status, order) = answer(place.json(&json!({"shipping_address_id": address_id}))).await?;
        ensure!(status == 201, "place an order: {status} {order}");
        let id = order["id"].as_str().context("an order id")?.to_owned();
        let start = self.api.post("/payments").bearer_auth(&self.token).header("idempotency-key", format!("{key}-pay"));
        let (_, payment) = answer(start.json(&json!({"order_id": id}))).await?;
        let payment_id = payment["payment_id"].as_str().with_context(|| format!("a payment: {payment}"))?;
        let confirm = self.api.post(&format!("/payments/{payment_id}/confirm")).bearer_auth(&self.token);
        let (status, _) = answer(confirm.json(&json!({"test_card": "4242424242424242"}))).await?;
        ensure!(status == 202, "confirm: {status}");
        self.order_reaches(&id, "paid").await?;
        Ok(order)
    }

    /// Waits until the shopper sees order `id` in `status`; it then.
    async fn order_reaches(&self, id: &str, status: &str) -> anyhow::Result<Value> {
        let what = format!("order {id} never became {status}");
        until(Duration::from_secs(20), Duration::from_millis(200), &what, async |last| {
            let (_, order) = answer(self.api.get(&format!("/orders/{id}")).bearer_auth(&self.token)).await?;
            *last = order.to_string();
            Ok((order["status"] == status).then_some(order))
        })
        .await
    }

    /// Staff add a shipping method at home; the cart lists it priced and keeps it; the order
    /// ships with it, in two parcels (two emails), each delivered on its own.
    pub(super) async fn ship_in_parcels(&self) -> anyhow::Result<()> {
        let (status, served) = answer(self.api.get("/shipping/countries")).await?;
        ensure!(
            status == 200 && served["countries"].as_array().is_some_and(|c| c.contains(&json!("DE"))),
            "anyone sees where the shop ships: {status} {served}"
        );
        let (_, zones) = answer(self.api.get("/shipping/zones").bearer_auth(&self.staff)).await?;
        let germany = zones["items"]
            .as_array()
            .and_then(|zones| zones.iter().find(|z| z["countries"] == json!(["DE"])))
            .and_then(|z| z["id"].as_str())
            .with_context(|| format!("the seeded zone of Germany: {zones}"))?;
        let name = format!("Walk courier {}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let method = json!({"zone_id": germany, "name": name, "carrier": "Walk Express", "min_days": 1, "max_days": 2,
            "price": {"rule": "flat", "fee_minor": 590}, "position": 900});
        let (status, _) = answer(self.api.post("/shipping/methods").bearer_auth(&self.token).json(&method)).await?;
        ensure!(status == 403, "a shopper cannot add shipping methods: {status}");
        let (status, method) =
            answer(self.api.post("/shipping/methods").bearer_auth(&self.staff).json(&method)).await?;
        ensure!(status == 201, "add a shipping method: {status} {method}");

        let add = self.api.post("/carts/current/items").bearer_auth(&self.token);
        let (status, cart) = answer(add.json(&json!({"sku": self.sku, "quantity": 2}))).await?;
        ensure!(status == 200, "add two to the cart: {status} {cart}");
        let listed = self.api.get("/carts/current/shipping-methods?country=DE").bearer_auth(&self.token);
        let (status, offers) = answer(listed).await?;
        let offered = offers["items"].as_array().into_iter().flatten().find(|m| m["id"] == method["id"]);
        ensure!(status == 200 && offered.is_some_and(|m| m["price_minor"] == 590), "the cart's methods: {offers}");
        let choose = self.api.request(reqwest::Method::PUT, "/carts/current/shipping-method").bearer_auth(&self.token);
        let (status, cart) = answer(choose.json(&json!({"shipping_method_id": method["id"]}))).await?;
        ensure!(status == 200 && cart["shipping_method_id"] == method["id"], "choose it: {status} {cart}");
        // The cart's two units and its choice are what this order takes (no more added).
        let order = self.paid_order(&format!("{}-parcels", self.key), None).await?;
        ensure!(order["shipping_method"]["name"] == name && order["shipping_minor"] == 590, "shipped with it: {order}");
        let id = order["id"].as_str().unwrap_or_default();
        let number = order["number"].as_str().unwrap_or_default();
        let invoice = self.api.get(&format!("/orders/{id}/invoice")).bearer_auth(&self.token).send().await?;
        let kind = invoice.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (status, pdf) = (invoice.status(), invoice.bytes().await?);
        ensure!(
            status == 200 && kind == "application/pdf" && pdf.starts_with(b"%PDF-"),
            "the invoice: {status} {kind}"
        );

        let parcels = format!("/orders/{id}/fulfillments");
        let parcel = |tracking: &str| {
            json!({"lines": [{"sku": self.sku, "quantity": 1}], "carrier": "Walk Express", "tracking_number": tracking,
                "tracking_url": format!("https://track.example/{tracking}")})
        };
        let (status, _) = answer(self.api.post(&parcels).bearer_auth(&self.token).json(&parcel("X"))).await?;
        ensure!(status == 403, "a shopper cannot ship: {status}");
        let mut delivered = Vec::new();
        for (tracking, after) in [("WALK-1", "fulfilling"), ("WALK-2", "shipped")] {
            let (status, body) =
                answer(self.api.post(&parcels).bearer_auth(&self.staff).json(&parcel(tracking))).await?;
            ensure!(status == 201 && body["order"]["status"] == after, "parcel {tracking}: {status} {body}");
            delivered.push(body["fulfillment_id"].as_str().unwrap_or_default().to_owned());
        }
        let (status, _) = answer(self.api.post(&parcels).bearer_auth(&self.staff).json(&parcel("WALK-3"))).await?;
        ensure!(status == 409, "never more than was ordered: {status}");
        crate::dev::mail::text_with(self.fleet, &self.email, &format!("a parcel of your order {number}")).await?;
        crate::dev::mail::text_with(self.fleet, &self.email, "https://track.example/WALK-2").await?;
        for fulfillment in &delivered {
            let deliver = self.api.post(&format!("/orders/{id}/fulfillments/{fulfillment}/deliver"));
            let (status, _) = answer(deliver.bearer_auth(&self.staff)).await?;
            ensure!(status == 200, "deliver parcel {fulfillment}: {status}");
        }
        self.order_reaches(id, "delivered").await?;
        eprintln!(
            "    a staff shipping method chosen in the cart, its invoice a PDF, the order shipped in two parcels (two emails) and delivered: ok"
        );
        Ok(())
    }

    /// Staff cancel a paid order before it ships: refunded in full, its stock back on hand (a
    /// `restock` movement in the SKU's ledger).
    pub(super) async fn staff_cancel(&self) -> anyhow::Result<()> {
        let order = self.paid_order(&format!("{}-cancelled", self.key), Some(1)).await?;
        let id = order["id"].as_str().unwrap_or_default();
        let cancel = self.api.post(&format!("/orders/{id}/cancel")).bearer_auth(&self.staff);
        let (status, cancelled) = answer(cancel.json(&json!({"reason": "the walk changed its mind"}))).await?;
        ensure!(status == 200 && cancelled["status"] == "cancelled", "staff cancel: {status} {cancelled}");
        let what = "the cancelled order was never refunded in full with a credit note";
        until(Duration::from_secs(20), Duration::from_millis(200), what, async |last| {
            let (_, now) = answer(self.api.get(&format!("/orders/{id}")).bearer_auth(&self.token)).await?;
            *last = now.to_string();
            let credited = now["credit_notes"].as_array().is_some_and(|notes| notes.len() == 1);
            Ok((now["refunded_minor"] == order["total_minor"] && credited).then_some(()))
        })
        .await?;
        let what = "the cancelled order's stock never came back";
        let ledger = format!("/stock/{}/movements", self.sku);
        until(Duration::from_secs(20), Duration::from_millis(200), what, async |last| {
            let (_, ledger) = answer(self.api.get(&ledger).bearer_auth(&self.staff)).await?;
            *last = ledger.to_string();
            let restocked = ledger["movements"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["reference"] == id && m["reason"] == "restock" && m["on_hand_delta"] == 1);
            Ok(restocked.then_some(()))
        })
        .await?;
        eprintln!("    staff cancelled a paid order: refunded in full (a credit note issued) and restocked: ok");
        Ok(())
    }
}
