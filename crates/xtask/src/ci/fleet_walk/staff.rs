//! Staff through NGINX: an administrator (made with auth's own command) signs in with a TOTP
//! code, refunds part of the payment, makes a discount code the shopper applies, uploads an
//! image, publishes a page, and reads analytics, the dashboard, the back office and the audit
//! log, each of which a shopper is refused.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use super::{Walk, until};
use crate::dev::api::answer;

impl Walk<'_> {
    /// Makes an administrator, signs them in with a TOTP code and refunds 1.00 EUR of the
    /// payment (a shopper may not); the order becomes partially refunded and the shopper is told.
    pub(super) async fn staff_refund(&mut self) -> anyhow::Result<()> {
        // Names of this walk's own (a walk may run again on a restored shop).
        let run = uuid::Uuid::new_v4().simple().to_string();
        let admin_email = format!("walk-admin-{}@example.com", &run[..12]);
        let made = std::process::Command::new(self.fleet.options.bin_dir.join("auth"))
            .args(["create-admin", "--email", &admin_email])
            .envs(self.fleet.service_env("auth"))
            .output()?;
        ensure!(made.status.success(), "auth create-admin: {}", String::from_utf8_lossy(&made.stderr));
        let admin: Value = serde_json::from_slice(&made.stdout)?;
        let code =
            totp::current_code(admin["totp_secret"].as_str().context("a TOTP secret")?).context("a TOTP code")?;
        let credentials = json!({"email": admin_email, "password": admin["password"], "code": code});
        let (_, login) = answer(self.api.post("/auth/admin/login").json(&credentials)).await?;
        self.staff = login["access_token"].as_str().with_context(|| format!("an admin token: {login}"))?.to_owned();
        let refunds = format!("/payments/{}/refunds", self.payment_id);
        let refund =
            self.api.post(&refunds).bearer_auth(&self.staff).header("idempotency-key", format!("{}-refund", self.key));
        let (status, refund) =
            answer(refund.json(&json!({"amount_minor": 100, "reason": "a scratch on the box"}))).await?;
        ensure!(status == 201, "refund: {status}");
        ensure!(refund["status"] == "succeeded", "the sandbox refunds at once: {refund}");
        let by_shopper =
            self.api.post(&refunds).bearer_auth(&self.token).json(&json!({"amount_minor": 1, "reason": "x"}));
        let (status, _) = answer(by_shopper).await?;
        ensure!(status == 403, "a shopper cannot refund: {status}");
        until(
            Duration::from_secs(20),
            Duration::from_millis(200),
            "the refund never reached the order",
            async |last| {
                let (_, now) =
                    answer(self.api.get(&format!("/orders/{}", self.order_id())).bearer_auth(&self.token)).await?;
                *last = now.to_string();
                Ok((now["status"] == "partially_refunded" && now["refunded_minor"] == 100).then_some(()))
            },
        )
        .await?;
        let told = format!("A refund of 1.00 EUR for order {}", self.order_number());
        crate::dev::mail::text_with(self.fleet, &self.email, &told).await?;
        eprintln!("    an admin (TOTP) refunded 1.00 EUR through NGINX: order partially refunded, shopper mailed: ok");
        Ok(())
    }

    /// The administrator makes a 10 % code; the shopper applies it (in lower case) to a cart.
    pub(super) async fn discount_code(&self) -> anyhow::Result<()> {
        let code = format!("WALK{}", uuid::Uuid::new_v4().simple().to_string()[..6].to_ascii_uppercase());
        let make = self.api.post("/discounts").bearer_auth(&self.staff);
        let (status, _) = answer(make.json(&json!({"code": code, "kind": "percent", "value": 1000}))).await?;
        ensure!(status == 201, "create a discount code: {status}");
        let add = self.api.post("/carts/current/items").bearer_auth(&self.token);
        let (status, _) = answer(add.json(&json!({"sku": self.sku, "quantity": 1}))).await?;
        ensure!(status == 200, "add to the cart again: {status}");
        let apply = self.api.post("/carts/current/discount").bearer_auth(&self.token);
        let (status, cart) = answer(apply.json(&json!({"code": code.to_ascii_lowercase()}))).await?;
        ensure!(status == 200, "apply the code: {status}");
        let subtotal = cart["subtotal_minor"].as_i64().context("a subtotal")?;
        ensure!(
            cart["discount_minor"].as_i64() == Some((subtotal * 1000 + 5000) / 10000)
                && cart["discount"]["code"] == code.as_str(),
            "the cart shows 10 % off: {cart}"
        );
        eprintln!("    the admin's discount code shows in the shopper's cart (10 % of {subtotal}): ok");
        Ok(())
    }

    /// The administrator uploads an image: a presigned PUT straight to the S3 server, completed
    /// through NGINX; its thumbnail is then served by NGINX from the stored objects, immutable.
    pub(super) async fn upload(&mut self) -> anyhow::Result<()> {
        let picture: &[u8] = include_bytes!("../../../assets/walk.png");
        let asked = json!({"filename": "walk.png", "content_type": "image/png", "size": picture.len()});
        let (_, ticket) = answer(self.api.post("/media/uploads").bearer_auth(&self.staff).json(&asked)).await?;
        let mut put =
            self.api.http().put(ticket["url"].as_str().with_context(|| format!("a presigned URL: {ticket}"))?);
        for (name, value) in ticket["headers"].as_object().context("the upload's headers")? {
            if !name.eq_ignore_ascii_case("content-length") {
                put = put.header(name, value.as_str().unwrap_or_default());
            }
        }
        let stored = put.body(picture.to_vec()).send().await?;
        ensure!(stored.status() == 200, "the presigned PUT: {}", stored.status());
        let upload_id = ticket["upload_id"].as_str().context("an upload id")?;
        let complete = self.api.post(&format!("/media/uploads/{upload_id}/complete")).bearer_auth(&self.staff);
        let (status, media) = answer(complete).await?;
        ensure!(status == 201, "complete the upload: {status}");
        let thumb = media["variants"]["thumb"].as_str().with_context(|| format!("a thumbnail: {media}"))?;
        let served = self.api.http().get(thumb).send().await?;
        ensure!(served.status() == 200, "the thumbnail at {thumb}: {}", served.status());
        let cache = served.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        ensure!(cache.contains("immutable"), "the thumbnail is immutable: {cache}");
        ensure!(served.bytes().await?.starts_with(&[0xFF, 0xD8]), "the thumbnail is a JPEG");
        eprintln!(
            "    an admin uploaded an image (presigned PUT, completed through NGINX); its thumbnail is served immutable: ok"
        );
        self.media_id = media["media_id"].as_str().context("a media id")?.to_owned();
        Ok(())
    }

    /// A content editor's page: written with the image, published, served through NGINX with
    /// its ETag, and the storefront told to revalidate it.
    pub(super) async fn publish_page(&mut self) -> anyhow::Result<()> {
        let slug = format!("walk-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
        let page = json!({"slug": slug, "title": "Walk", "blocks": [
            {"type": "markdown", "markdown": "Hello <script>alert(1)</script> **walker**"},
            {"type": "image", "media_id": self.media_id, "alt": "a walk"},
        ]});
        let (status, _) = answer(self.api.post("/content/pages").bearer_auth(&self.staff).json(&page)).await?;
        ensure!(status == 201, "create a page: {status}");
        let (status, _) =
            answer(self.api.post(&format!("/content/pages/{slug}/publish")).bearer_auth(&self.staff)).await?;
        ensure!(status == 200, "publish the page: {status}");
        let response = self.api.get(&format!("/content/pages/{slug}")).send().await?;
        ensure!(response.status() == 200, "the published page: {}", response.status());
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let public: Value = response.json().await?;
        let html = public["blocks"][0]["html"].as_str().unwrap_or_default();
        ensure!(
            html.contains("<strong>walker</strong>") && !html.contains("<script"),
            "the page is rendered safely: {public}"
        );
        ensure!(public["blocks"][1]["image"]["url"].as_str().is_some(), "the page's image has its URL: {public}");
        let response = self.api.get(&format!("/content/pages/{slug}")).header("if-none-match", &etag).send().await?;
        ensure!(response.status() == 304, "the page again with its ETag: {}", response.status());
        let storefront = self.fleet.options.storefront.as_ref().context("the storefront receiver")?;
        let path = format!("/pages/{slug}");
        let what = format!("the storefront was not told to revalidate {path}");
        until(Duration::from_secs(10), Duration::from_millis(100), &what, async |_| {
            let told =
                crate::dev::storefront::received(&storefront.log).iter().any(|call| call["paths"][0] == path.as_str());
            Ok(told.then_some(()))
        })
        .await?;
        eprintln!(
            "    a staff member published a page; NGINX serves it (304 on its ETag); the storefront revalidated {path}: ok"
        );
        self.page_slug = slug;
        Ok(())
    }

    /// The storefront reports a product view through the public tracking door (signed in: it
    /// carries the shopper's id); the paid order and its refund reach the rollups staff read,
    /// as CSV too; a shopper may not read them.
    pub(super) async fn analytics(&self) -> anyhow::Result<()> {
        let now = chrono::Utc::now();
        let tracked = json!({"events": [{"type": "product_view", "visitor_id": "walk-visitor",
            "session_id": "walk-session", "occurred_at": now, "product_id": self.media_id}]});
        let (status, _) = answer(self.api.post("/analytics/events").bearer_auth(&self.token).json(&tracked)).await?;
        ensure!(status == 202, "track a product view: {status}");
        let today = now.date_naive();
        let what = "the paid order and its refund never reached analytics";
        until(Duration::from_secs(10), Duration::from_millis(200), what, async |last| {
            let revenue = self.api.get(&format!("/analytics/revenue?from={today}&to={today}")).bearer_auth(&self.staff);
            let (_, report) = answer(revenue).await?;
            *last = report.to_string();
            let row = &report["items"][0];
            Ok((row["orders"].as_i64() >= Some(1) && row["refunded_minor"].as_i64() >= Some(100)).then_some(()))
        })
        .await?;
        let funnel = self.api.get(&format!("/analytics/funnel?from={today}&to={today}")).bearer_auth(&self.staff);
        let funnel = funnel.header("accept", "text/csv").send().await?.text().await?;
        ensure!(funnel.starts_with("period,product_views"), "the funnel as CSV: {funnel}");
        let (status, _) = answer(self.api.get("/analytics/revenue").bearer_auth(&self.token)).await?;
        ensure!(status == 403, "a shopper reading analytics: {status}");
        eprintln!("    a tracked view, and the paid order with its refund, show in analytics (JSON and CSV): ok");
        Ok(())
    }

    /// The staff dashboard: the same figures composed by admin, and its page of charts under
    /// its own Content-Security-Policy.
    pub(super) async fn dashboard(&self) -> anyhow::Result<()> {
        let (_, summary) = answer(self.api.get("/admin/dashboard/summary").bearer_auth(&self.staff)).await?;
        ensure!(summary["orders"].as_i64() >= Some(1), "the dashboard counts the paid order: {summary}");
        let page = self.api.get("/admin/dashboard").bearer_auth(&self.staff).send().await?;
        ensure!(page.status() == 200, "the dashboard page: {}", page.status());
        let csp =
            page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        ensure!(
            csp.starts_with("default-src 'none'") && csp.contains("form-action 'none'"),
            "the dashboard's CSP: {csp}"
        );
        ensure!(page.text().await?.contains("<svg"), "the dashboard draws its charts");
        let (status, _) = answer(self.api.get("/admin/dashboard").bearer_auth(&self.token)).await?;
        ensure!(status == 403, "a shopper opening the dashboard: {status}");
        eprintln!(
            "    the admin dashboard shows the paid order, as JSON and as a page of SVG charts under its CSP: ok"
        );
        Ok(())
    }

    /// The back office: the shopper found by email, their orders, and the paid order with its
    /// payment, refund and timeline, composed from auth, order and payment.
    pub(super) async fn back_office(&self) -> anyhow::Result<()> {
        let by_email = format!("/admin/customers?email={}", self.email.replace('@', "%40"));
        let (_, customer) = answer(self.api.get(&by_email).bearer_auth(&self.staff)).await?;
        ensure!(customer["email"] == self.email.as_str(), "the customer by email: {customer}");
        let customer_id = customer["id"].as_str().context("the customer's id")?;
        let (_, theirs) =
            answer(self.api.get(&format!("/admin/customers/{customer_id}/orders")).bearer_auth(&self.staff)).await?;
        ensure!(
            theirs["items"].as_array().is_some_and(|items| items.iter().any(|o| o["id"] == self.order_id())),
            "the customer's orders hold the paid one: {theirs}"
        );
        let order = format!("/admin/orders/{}", self.order_id());
        let (_, detail) = answer(self.api.get(&order).bearer_auth(&self.staff)).await?;
        let kinds: Vec<&str> = detail["timeline"]
            .as_array()
            .map(|t| t.iter().filter_map(|e| e["kind"].as_str()).collect())
            .unwrap_or_default();
        ensure!(
            detail["payment"]["status"] == "succeeded"
                && detail["payment"]["refunds"].as_array().is_some_and(|r| !r.is_empty())
                && kinds.contains(&"order.paid")
                && kinds.contains(&"payment.started"),
            "the order with its payment, refund and timeline: {detail}"
        );
        let (status, _) = answer(self.api.get(&order).bearer_auth(&self.token)).await?;
        ensure!(status == 403, "a shopper reading the back office's order: {status}");
        eprintln!(
            "    the back office finds the shopper, their orders, and the order with payment, refund and timeline: ok"
        );
        Ok(())
    }

    /// Every staff write above is in the audit log, with what it changed: the page's creation
    /// and publication (cms), the refund (payment), the upload (media).
    pub(super) async fn audit_log(&self) -> anyhow::Result<()> {
        for (target, action) in [
            (format!("page:{}", self.page_slug), "page.publish"),
            (format!("page:{}", self.page_slug), "page.create"),
            (format!("payment:{}", self.payment_id), "payment.refund"),
            (format!("media:{}", self.media_id), "media.upload"),
        ] {
            let what = format!("{action} on {target} never reached the audit log");
            until(Duration::from_secs(10), Duration::from_millis(200), &what, async |last| {
                let (_, log) =
                    answer(self.api.get(&format!("/admin/audit-log?target={target}")).bearer_auth(&self.staff)).await?;
                *last = log.to_string();
                let Some(entry) =
                    log["items"].as_array().and_then(|items| items.iter().find(|e| e["action"] == action))
                else {
                    return Ok(None);
                };
                ensure!(entry["after"].is_object(), "{action} records what it made: {entry}");
                Ok(Some(()))
            })
            .await?;
        }
        eprintln!("    the staff writes (page, refund, upload) are in the audit log with before and after: ok");
        Ok(())
    }
}
