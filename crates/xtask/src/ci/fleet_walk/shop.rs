//! The shopper's side: sign up, browse, search, a guest cart merged on sign-in, checkout and
//! payment through the sandbox, and the saga that follows.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use super::{PASSWORD, Walk, until};
use crate::dev::api::{Api, answer};
use crate::dev::fleet::Fleet;

impl<'a> Walk<'a> {
    /// Registers and signs in through NGINX, verifies the address from the email's link, signs
    /// in again, and waits for the profile the user service makes from USER_REGISTERED.
    pub(super) async fn sign_up(fleet: &'a Fleet, api: Api) -> anyhow::Result<Walk<'a>> {
        let email = format!("fleet-{}@example.com", uuid::Uuid::new_v4().simple());
        let credentials = json!({"email": email, "password": PASSWORD});
        let response = api.post("/auth/register").json(&credentials).send().await?;
        ensure!(response.status() == 201, "register: {} {}", response.status(), response.text().await?);
        let (status, login) = answer(api.post("/auth/login").json(&credentials)).await?;
        ensure!(status == 200, "login: {status}");
        ensure!(login["access_token"].is_string(), "login returns an access_token");
        ensure!(login["token_type"] == "Bearer", "token_type is Bearer");
        eprintln!("    register and login through NGINX: ok");

        let verification = crate::dev::mail::token_for(fleet, &email, "verify-email").await?;
        let (status, _) = answer(api.post("/auth/verify-email").json(&json!({"token": verification}))).await?;
        ensure!(status == 200, "verify-email: {status}");
        let (_, login) = answer(api.post("/auth/login").json(&credentials)).await?;
        let token = login["access_token"].as_str().context("login after verification")?.to_owned();
        eprintln!("    verification email under {} and its link verify the account: ok", fleet.mail_dir().display());

        until(
            Duration::from_secs(10),
            Duration::from_millis(100),
            "the profile never showed the verified email",
            async |last| {
                let (status, me) = answer(api.get("/users/me").bearer_auth(&token)).await?;
                ensure!(status == 200, "GET /users/me: {status}");
                *last = me.to_string();
                Ok((me["email"] == email.as_str() && me["email_verified"] == true).then_some(()))
            },
        )
        .await?;
        eprintln!("    GET /api/v1/users/me shows the profile, verified: ok");
        Ok(Walk {
            fleet,
            api,
            email,
            token,
            request_id: String::new(),
            product: Value::Null,
            sku: String::new(),
            order: Value::Null,
            key: String::new(),
            payment_id: String::new(),
            staff: String::new(),
            media_id: String::new(),
            page_slug: String::new(),
        })
    }

    /// Lists products with the token and a request id of its own, opens one by slug, then
    /// browses as a shopper would: the category tree, a category with facets (public, and
    /// revalidated with its ETag), a product of it.
    pub(super) async fn browse(&mut self) -> anyhow::Result<()> {
        self.request_id = format!("fleet-{}", uuid::Uuid::new_v4().simple());
        let response = self
            .api
            .get("/products?limit=100")
            .bearer_auth(&self.token)
            .header("x-request-id", &self.request_id)
            .send()
            .await?;
        ensure!(response.status() == 200, "list products: {}", response.status());
        ensure!(
            response.headers().get("x-request-id").and_then(|v| v.to_str().ok()) == Some(self.request_id.as_str()),
            "the X-Request-Id comes back"
        );
        ensure!(response.headers().contains_key("x-content-type-options"), "NGINX adds its security headers");
        let page: Value = response.json().await?;
        let items = page["items"].as_array().context("items")?;
        ensure!(items.len() >= 50, "the demo catalog has at least 50 products, got {}", items.len());
        let slug = items[0]["slug"].as_str().context("slug")?.to_owned();
        eprintln!("    {} products listed through NGINX with a token: ok", items.len());

        let (status, product) = answer(self.api.get(&format!("/products/{slug}")).bearer_auth(&self.token)).await?;
        ensure!(status == 200, "product by slug: {status}");
        ensure!(product["slug"] == slug.as_str(), "the detail is the product asked for");
        ensure!(!product["variants"].as_array().context("variants")?.is_empty(), "the product has variants");
        eprintln!("    product detail by slug: ok");

        let (_, tree) = answer(self.api.get("/categories")).await?;
        let root = tree[0]["slug"].as_str().context("a root category")?.to_owned();
        let listing = format!("/products?category={root}&facets=true&limit=5");
        let response = self.api.get(&listing).send().await?;
        ensure!(response.status() == 200, "category listing: {}", response.status());
        let etag = response.headers().get("etag").context("an ETag")?.clone();
        let cache_control = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default();
        ensure!(cache_control.starts_with("public"), "an anonymous listing is public, got {cache_control:?}");
        let page: Value = response.json().await?;
        let facets = page["facets"]["categories"].as_array().context("category facets")?;
        ensure!(
            facets.iter().all(|f| f["count"].as_i64() > Some(0)),
            "every subtree of {root} has products: {facets:?}"
        );
        let again = self.api.get(&listing).header("if-none-match", etag).send().await?;
        ensure!(again.status() == 304, "a matching If-None-Match is a 304, got {}", again.status());
        let product_slug = page["items"][0]["slug"].as_str().context("a product in the category")?;
        let (_, product) = answer(self.api.get(&format!("/products/{product_slug}"))).await?;
        ensure!(product["categories"].as_array().is_some_and(|c| !c.is_empty()), "the product names its categories");
        eprintln!("    browsed {root} with {} subcategory facets, ETag revalidated, detail: ok", facets.len());
        self.sku = product["variants"][0]["sku"].as_str().context("a SKU")?.to_owned();
        self.product = product;
        Ok(())
    }

    /// Inventory's seed stocked every demo SKU and its STOCK_CHANGED events reached the catalog;
    /// search, fed by the same events, finds the product by a word typed with two letters
    /// swapped (in stock, highlighted) and completes the word's beginning; the SKU is available.
    pub(super) async fn stock_and_search(&self) -> anyhow::Result<()> {
        until(Duration::from_secs(20), Duration::from_millis(250), "products never showed in stock", async |last| {
            // With a token: NGINX's micro-cache would answer an anonymous poll from before the stock.
            let (_, page) =
                answer(self.api.get("/products?in_stock=true&limit=100&facets=true").bearer_auth(&self.token)).await?;
            let in_stock = page["items"].as_array().map_or(0, Vec::len);
            *last = in_stock.to_string();
            Ok((in_stock >= 50).then(|| eprintln!("    {in_stock} products in stock, from inventory's events: ok")))
        })
        .await?;
        let title = self.product["title"].as_str().context("a title")?;
        let word = title.split(|c: char| !c.is_alphanumeric()).max_by_key(|w| w.len()).context("a word")?;
        ensure!(word.len() >= 5, "a title word of 5 letters or more: {title}");
        let mut typo: Vec<char> = word.to_lowercase().chars().collect();
        // Two different adjacent letters swapped (not the first: the word stays recognisable).
        let at = (1..typo.len() - 1).find(|&i| typo[i] != typo[i + 1]).context("two different letters")?;
        typo.swap(at, at + 1);
        let typo: String = typo.into_iter().collect();
        let what = format!("search never found {title:?} for {typo:?} in stock");
        until(Duration::from_secs(20), Duration::from_millis(250), &what, async |last| {
            let (status, page) =
                answer(self.api.get(&format!("/search?q={typo}&facets=true&limit=50")).bearer_auth(&self.token))
                    .await?;
            *last = format!("{status} {page}");
            let hit =
                page["items"].as_array().and_then(|items| items.iter().find(|i| i["slug"] == self.product["slug"]));
            let Some(hit) = hit.filter(|hit| hit["in_stock"] == true && page["facets"]["categories"].is_array()) else {
                return Ok(None);
            };
            ensure!(hit["highlights"]["title"].as_str().is_some_and(|h| h.contains("<mark>")), "highlighted: {hit}");
            Ok(Some(()))
        })
        .await?;
        eprintln!("    search found {title:?} for the typo {typo:?} (in stock, highlighted, with facets): ok");
        let prefix: String = word.chars().take(4).collect();
        let (_, suggested) =
            answer(self.api.get(&format!("/search/suggest?q={prefix}")).bearer_auth(&self.token)).await?;
        ensure!(
            suggested["suggestions"].as_array().is_some_and(|s| !s.is_empty()),
            "suggestions for {prefix:?}: {suggested}"
        );
        eprintln!("    search suggests completions for {prefix:?}: ok");

        let (_, stock) = answer(self.api.get(&format!("/stock/{}", self.sku))).await?;
        ensure!(stock["available"] == true, "the SKU is available: {stock}");
        eprintln!("    GET /stock/{} through NGINX: available: ok", self.sku);
        Ok(())
    }

    /// A guest cart (token from POST /carts), then merged into the signed-in shopper's cart.
    pub(super) async fn guest_cart_merged(&self) -> anyhow::Result<()> {
        let (_, created) = answer(self.api.post("/carts")).await?;
        let cart_token = created["cart_token"].as_str().context("a cart token")?.to_owned();
        let add = self.api.post("/carts/current/items").header("x-cart-token", &cart_token);
        let (status, guest_cart) = answer(add.json(&json!({"sku": self.sku, "quantity": 2}))).await?;
        ensure!(status == 200, "add to a guest cart: {status}");
        ensure!(guest_cart["lines"][0]["quantity"] == 2, "the guest cart has the line: {guest_cart}");
        let merge = self.api.post("/carts/current/merge").bearer_auth(&self.token).header("x-cart-token", &cart_token);
        let (status, _) = answer(merge).await?;
        ensure!(status == 200, "merge: {status}");
        let (_, cart) = answer(self.api.get("/carts/current").bearer_auth(&self.token)).await?;
        ensure!(
            cart["lines"]
                .as_array()
                .is_some_and(|l| l.iter().any(|l| l["sku"] == self.sku.as_str() && l["quantity"] == 2)),
            "the shopper's cart shows the merged line: {cart}"
        );
        eprintln!("    guest cart → sign-in → merge → the shopper's cart shows the line: ok");
        Ok(())
    }

    /// Checkout up to payment: a saved address, then an order with an Idempotency-Key (its
    /// replay answers the same order), its stock held.
    pub(super) async fn checkout(&mut self) -> anyhow::Result<()> {
        let address = json!({"recipient_name": "Fleet Walker", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "DE"});
        let (_, address) = answer(self.api.post("/users/me/addresses").bearer_auth(&self.token).json(&address)).await?;
        let address_id = address["id"].as_str().context("an address id")?;
        self.key = format!("fleet-{}", uuid::Uuid::new_v4().simple());
        let place = || {
            self.api
                .post("/orders")
                .bearer_auth(&self.token)
                .header("idempotency-key", &self.key)
                .json(&json!({"shipping_address_id": address_id}))
        };
        let (status, order) = answer(place()).await?;
        ensure!(status == 201, "place an order: {status}");
        ensure!(
            order["status"] == "awaiting_payment" && order["tax_minor"].as_i64() > Some(0),
            "an unpaid order with VAT: {order}"
        );
        let (status, again) = answer(place()).await?;
        ensure!(status == 200, "the same key gives the same order, got {status}");
        ensure!(again["id"] == order["id"], "one order per key");
        let (_, stock) = answer(self.api.get(&format!("/stock/{}", self.sku))).await?;
        ensure!(stock["available"] == true, "98 of 100 still available: {stock}");
        eprintln!(
            "    order {} placed through NGINX (stock held, replay answered the same order): ok",
            order["number"]
        );
        self.order = order;
        Ok(())
    }

    /// Pays with the sandbox: its verdict comes back as a signed webhook through NGINX.
    pub(super) async fn pay(&mut self) -> anyhow::Result<()> {
        let start =
            self.api.post("/payments").bearer_auth(&self.token).header("idempotency-key", format!("{}-pay", self.key));
        let (_, payment) = answer(start.json(&json!({"order_id": self.order["id"]}))).await?;
        self.payment_id = payment["payment_id"].as_str().with_context(|| format!("a payment: {payment}"))?.to_owned();
        ensure!(payment["amount_minor"] == self.order["total_minor"], "the amount is the order's");
        let confirm = self.api.post(&format!("/payments/{}/confirm", self.payment_id)).bearer_auth(&self.token);
        let (status, _) = answer(confirm.json(&json!({"test_card": "4242424242424242"}))).await?;
        ensure!(status == 202, "confirm: {status}");
        until(
            Duration::from_secs(20),
            Duration::from_millis(200),
            "the sandbox's webhook never arrived",
            async |last| {
                let (_, paid) =
                    answer(self.api.get(&format!("/payments/{}", self.payment_id)).bearer_auth(&self.token)).await?;
                *last = paid.to_string();
                Ok((paid["status"] == "succeeded").then_some(()))
            },
        )
        .await?;
        eprintln!("    paid with the sandbox card; its signed webhook came back through NGINX: ok");
        Ok(())
    }

    /// The saga: the order is paid, the stock committed, the cart cleared, the receipt mailed.
    pub(super) async fn saga(&self) -> anyhow::Result<()> {
        let what = "the order never became paid with its cart cleared";
        until(Duration::from_secs(20), Duration::from_millis(200), what, async |last| {
            let (_, now) =
                answer(self.api.get(&format!("/orders/{}", self.order_id())).bearer_auth(&self.token)).await?;
            let (_, cart) = answer(self.api.get("/carts/current").bearer_auth(&self.token)).await?;
            *last = format!("{now} {cart}");
            Ok((now["status"] == "paid" && cart["lines"].as_array().is_some_and(Vec::is_empty)).then_some(()))
        })
        .await?;
        let number = self.order_number();
        let receipt =
            crate::dev::mail::text_with(self.fleet, &self.email, &format!("Your receipt for order {number}")).await?;
        ensure!(receipt.contains(number), "the receipt names the order");
        eprintln!("    order {number} paid, stock committed, cart cleared, receipt in the mail: ok");
        Ok(())
    }
}
