//! What the fleet test checks once everything runs: a shopper's walk through NGINX, request-id
//! propagation into the product service's log, NGINX's refusals, and every service's
//! operational routes.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use service_kit::SERVICES;
use sqlx::Connection as _;

use crate::dev::fleet::Fleet;

pub(crate) async fn walk(fleet: &Fleet) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let api = format!("{}/api/v1", fleet.nginx_url());
    let email = format!("fleet-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "correct horse battery staple";

    // Register and log in through NGINX.
    let response = http
        .post(format!("{api}/auth/register"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?;
    ensure!(response.status() == 201, "register: {} {}", response.status(), response.text().await?);
    let response = http
        .post(format!("{api}/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?;
    ensure!(response.status() == 200, "login: {}", response.status());
    let login: serde_json::Value = response.json().await?;
    ensure!(login["access_token"].is_string(), "login returns an access_token");
    ensure!(login["token_type"] == "Bearer", "token_type is Bearer");
    eprintln!("    register and login through NGINX: ok");

    // The verification email arrives as a file; its link's token verifies the address.
    let verification = wait_for_mail_token(fleet, &email, "verify-email").await?;
    let response =
        http.post(format!("{api}/auth/verify-email")).json(&serde_json::json!({"token": verification})).send().await?;
    ensure!(response.status() == 200, "verify-email: {}", response.status());
    let response = http
        .post(format!("{api}/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?;
    let login: serde_json::Value = response.json().await?;
    let token = login["access_token"].as_str().context("login after verification")?.to_owned();
    eprintln!("    verification email under {} and its link verify the account: ok", fleet.mail_dir().display());

    // The user service made the profile from USER_REGISTERED; /users/me shows it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = http.get(format!("{api}/users/me")).bearer_auth(&token).send().await?;
        ensure!(response.status() == 200, "GET /users/me: {}", response.status());
        let me: serde_json::Value = response.json().await?;
        if me["email"] == email.as_str() && me["email_verified"] == true {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the profile never showed the verified email: {me}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("    GET /api/v1/users/me shows the profile, verified: ok");

    // List products with the token and a request id of our own.
    let request_id = format!("fleet-{}", uuid::Uuid::new_v4().simple());
    let response = http
        .get(format!("{api}/products?limit=100"))
        .bearer_auth(&token)
        .header("x-request-id", &request_id)
        .send()
        .await?;
    ensure!(response.status() == 200, "list products: {}", response.status());
    ensure!(
        response.headers().get("x-request-id").and_then(|v| v.to_str().ok()) == Some(request_id.as_str()),
        "the X-Request-Id comes back"
    );
    ensure!(response.headers().contains_key("x-content-type-options"), "NGINX adds its security headers");
    let page: serde_json::Value = response.json().await?;
    let items = page["items"].as_array().context("items")?;
    ensure!(items.len() >= 50, "the demo catalog has at least 50 products, got {}", items.len());
    let slug = items[0]["slug"].as_str().context("slug")?.to_owned();
    eprintln!("    {} products listed through NGINX with a token: ok", items.len());

    let response = http.get(format!("{api}/products/{slug}")).bearer_auth(&token).send().await?;
    ensure!(response.status() == 200, "product by slug: {}", response.status());
    let product: serde_json::Value = response.json().await?;
    ensure!(product["slug"] == slug.as_str(), "the detail is the product asked for");
    ensure!(!product["variants"].as_array().context("variants")?.is_empty(), "the product has variants");
    eprintln!("    product detail by slug: ok");

    // Browse as a shopper would: the category tree, a category with facets, a product of it;
    // anonymous reads are public and revalidate with their ETag.
    let tree: serde_json::Value = http.get(format!("{api}/categories")).send().await?.json().await?;
    let root = tree[0]["slug"].as_str().context("a root category")?.to_owned();
    let response = http.get(format!("{api}/products?category={root}&facets=true&limit=5")).send().await?;
    ensure!(response.status() == 200, "category listing: {}", response.status());
    let etag = response.headers().get("etag").context("an ETag")?.clone();
    let cache_control = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default();
    ensure!(cache_control.starts_with("public"), "an anonymous listing is public, got {cache_control:?}");
    let page: serde_json::Value = response.json().await?;
    let facets = page["facets"]["categories"].as_array().context("category facets")?;
    ensure!(facets.iter().all(|f| f["count"].as_i64() > Some(0)), "every subtree of {root} has products: {facets:?}");
    let again = http
        .get(format!("{api}/products?category={root}&facets=true&limit=5"))
        .header("if-none-match", etag)
        .send()
        .await?;
    ensure!(again.status() == 304, "a matching If-None-Match is a 304, got {}", again.status());
    let product_slug = page["items"][0]["slug"].as_str().context("a product in the category")?;
    let product: serde_json::Value = http.get(format!("{api}/products/{product_slug}")).send().await?.json().await?;
    ensure!(product["categories"].as_array().is_some_and(|c| !c.is_empty()), "the product names its categories");
    eprintln!("    browsed {root} with {} subcategory facets, ETag revalidated, detail: ok", facets.len());

    // Inventory's seed stocked every demo SKU; its STOCK_CHANGED events reached the catalog.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        // With a token: NGINX's micro-cache would answer an anonymous poll from before the stock.
        let page: serde_json::Value = http
            .get(format!("{api}/products?in_stock=true&limit=100&facets=true"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let in_stock = page["items"].as_array().map_or(0, Vec::len);
        if in_stock >= 50 {
            eprintln!("    {in_stock} products in stock, from inventory's events: ok");
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "products never showed in stock: {in_stock}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Search finds the product by a word of its title typed with two letters swapped, in stock
    // (the index is fed by the same events), and completes the word's beginning.
    let title = product["title"].as_str().context("a title")?;
    let word = title.split(|c: char| !c.is_alphanumeric()).max_by_key(|w| w.len()).context("a word")?;
    ensure!(word.len() >= 5, "a title word of 5 letters or more: {title}");
    let mut typo: Vec<char> = word.to_lowercase().chars().collect();
    // Two different adjacent letters swapped (not the first: the word stays recognisable).
    let at = (1..typo.len() - 1).find(|&i| typo[i] != typo[i + 1]).context("two different letters")?;
    typo.swap(at, at + 1);
    let typo: String = typo.into_iter().collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let response =
            http.get(format!("{api}/search?q={typo}&facets=true&limit=50")).bearer_auth(&token).send().await?;
        let status = response.status();
        let page: serde_json::Value = response.json().await?;
        let hit = page["items"].as_array().and_then(|items| items.iter().find(|i| i["slug"] == product["slug"]));
        if let Some(hit) = hit.filter(|hit| hit["in_stock"] == true && page["facets"]["categories"].is_array()) {
            ensure!(hit["highlights"]["title"].as_str().is_some_and(|h| h.contains("<mark>")), "highlighted: {hit}");
            eprintln!("    search found {title:?} for the typo {typo:?} (in stock, highlighted, with facets): ok");
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "search never found {title:?} for {typo:?} in stock ({status}): {page}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let prefix: String = word.chars().take(4).collect();
    let suggested: serde_json::Value =
        http.get(format!("{api}/search/suggest?q={prefix}")).bearer_auth(&token).send().await?.json().await?;
    ensure!(
        suggested["suggestions"].as_array().is_some_and(|s| !s.is_empty()),
        "suggestions for {prefix:?}: {suggested}"
    );
    eprintln!("    search suggests completions for {prefix:?}: ok");

    let sku = product["variants"][0]["sku"].as_str().context("a SKU")?;
    let stock: serde_json::Value = http.get(format!("{api}/stock/{sku}")).send().await?.json().await?;
    ensure!(stock["available"] == true, "the SKU is available: {stock}");
    eprintln!("    GET /stock/{sku} through NGINX: available: ok");

    // A guest cart (token from POST /carts), then merged into the signed-in shopper's cart.
    let created: serde_json::Value = http.post(format!("{api}/carts")).send().await?.json().await?;
    let cart_token = created["cart_token"].as_str().context("a cart token")?.to_owned();
    let response = http
        .post(format!("{api}/carts/current/items"))
        .header("x-cart-token", &cart_token)
        .json(&serde_json::json!({"sku": sku, "quantity": 2}))
        .send()
        .await?;
    ensure!(response.status() == 200, "add to a guest cart: {}", response.status());
    let guest_cart: serde_json::Value = response.json().await?;
    ensure!(guest_cart["lines"][0]["quantity"] == 2, "the guest cart has the line: {guest_cart}");
    let response = http
        .post(format!("{api}/carts/current/merge"))
        .bearer_auth(&token)
        .header("x-cart-token", &cart_token)
        .send()
        .await?;
    ensure!(response.status() == 200, "merge: {}", response.status());
    let cart: serde_json::Value =
        http.get(format!("{api}/carts/current")).bearer_auth(&token).send().await?.json().await?;
    ensure!(
        cart["lines"].as_array().is_some_and(|l| l.iter().any(|l| l["sku"] == sku && l["quantity"] == 2)),
        "the shopper's cart shows the merged line: {cart}"
    );
    eprintln!("    guest cart → sign-in → merge → the shopper's cart shows the line: ok");

    // Checkout up to payment: a saved address, then an order with an Idempotency-Key.
    let address: serde_json::Value = http
        .post(format!("{api}/users/me/addresses"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"recipient_name": "Fleet Walker", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}))
        .send()
        .await?
        .json()
        .await?;
    let address_id = address["id"].as_str().context("an address id")?;
    let key = format!("fleet-{}", uuid::Uuid::new_v4().simple());
    let place = || {
        http.post(format!("{api}/orders"))
            .bearer_auth(&token)
            .header("idempotency-key", &key)
            .json(&serde_json::json!({"shipping_address_id": address_id}))
            .send()
    };
    let response = place().await?;
    ensure!(response.status() == 201, "place an order: {}", response.status());
    let order: serde_json::Value = response.json().await?;
    ensure!(
        order["status"] == "awaiting_payment" && order["tax_minor"].as_i64() > Some(0),
        "an unpaid order with VAT: {order}"
    );
    let again = place().await?;
    ensure!(again.status() == 200, "the same key gives the same order, got {}", again.status());
    let again: serde_json::Value = again.json().await?;
    ensure!(again["id"] == order["id"], "one order per key");
    let stock: serde_json::Value = http.get(format!("{api}/stock/{sku}")).send().await?.json().await?;
    ensure!(stock["available"] == true, "98 of 100 still available: {stock}");
    eprintln!("    order {} placed through NGINX (stock held, replay answered the same order): ok", order["number"]);

    // Pay it with the sandbox: its verdict comes back as a signed webhook through NGINX.
    let payment: serde_json::Value = http
        .post(format!("{api}/payments"))
        .bearer_auth(&token)
        .header("idempotency-key", format!("{key}-pay"))
        .json(&serde_json::json!({"order_id": order["id"]}))
        .send()
        .await?
        .json()
        .await?;
    let payment_id = payment["payment_id"].as_str().with_context(|| format!("a payment: {payment}"))?;
    ensure!(payment["amount_minor"] == order["total_minor"], "the amount is the order's");
    let response = http
        .post(format!("{api}/payments/{payment_id}/confirm"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"test_card": "4242424242424242"}))
        .send()
        .await?;
    ensure!(response.status() == 202, "confirm: {}", response.status());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let paid: serde_json::Value =
            http.get(format!("{api}/payments/{payment_id}")).bearer_auth(&token).send().await?.json().await?;
        if paid["status"] == "succeeded" {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the sandbox's webhook never arrived: {paid}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("    paid with the sandbox card; its signed webhook came back through NGINX: ok");

    // The saga: the order is paid, the stock committed, the cart cleared, the receipt mailed.
    let order_id = order["id"].as_str().context("an order id")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now: serde_json::Value =
            http.get(format!("{api}/orders/{order_id}")).bearer_auth(&token).send().await?.json().await?;
        let cart: serde_json::Value =
            http.get(format!("{api}/carts/current")).bearer_auth(&token).send().await?.json().await?;
        if now["status"] == "paid" && cart["lines"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the order never became paid with its cart cleared: {now} {cart}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let number = order["number"].as_str().context("an order number")?;
    let receipt = wait_for_mail(fleet, &email, &format!("Your receipt for order {number}")).await?;
    ensure!(receipt.contains(number), "the receipt names the order");
    eprintln!("    order {number} paid, stock committed, cart cleared, receipt in the mail: ok");

    // Staff through NGINX: an administrator (made with auth's own command) signs in with a TOTP
    // code, refunds part of the payment, and makes a discount code the shopper then applies.
    // Names of this walk's own (a walk may run again on a restored shop).
    let run = uuid::Uuid::new_v4().simple().to_string();
    let admin_email = format!("walk-admin-{}@example.com", &run[..12]);
    let discount_code = format!("WALK{}", run[..6].to_ascii_uppercase());
    let made = std::process::Command::new(fleet.options.bin_dir.join("auth"))
        .args(["create-admin", "--email", &admin_email])
        .envs(fleet.service_env("auth"))
        .output()?;
    ensure!(made.status.success(), "auth create-admin: {}", String::from_utf8_lossy(&made.stderr));
    let admin: serde_json::Value = serde_json::from_slice(&made.stdout)?;
    let code = totp::current_code(admin["totp_secret"].as_str().context("a TOTP secret")?).context("a TOTP code")?;
    let login: serde_json::Value = http
        .post(format!("{api}/auth/admin/login"))
        .json(&serde_json::json!({"email": admin_email, "password": admin["password"], "code": code}))
        .send()
        .await?
        .json()
        .await?;
    let staff = login["access_token"].as_str().with_context(|| format!("an admin token: {login}"))?.to_owned();
    let response = http
        .post(format!("{api}/payments/{payment_id}/refunds"))
        .bearer_auth(&staff)
        .header("idempotency-key", format!("{key}-refund"))
        .json(&serde_json::json!({"amount_minor": 100, "reason": "a scratch on the box"}))
        .send()
        .await?;
    ensure!(response.status() == 201, "refund: {}", response.status());
    let refund: serde_json::Value = response.json().await?;
    ensure!(refund["status"] == "succeeded", "the sandbox refunds at once: {refund}");
    let shopper_refund = http
        .post(format!("{api}/payments/{payment_id}/refunds"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"amount_minor": 1, "reason": "x"}))
        .send()
        .await?;
    ensure!(shopper_refund.status() == 403, "a shopper cannot refund: {}", shopper_refund.status());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now: serde_json::Value =
            http.get(format!("{api}/orders/{order_id}")).bearer_auth(&token).send().await?.json().await?;
        if now["status"] == "partially_refunded" && now["refunded_minor"] == 100 {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the refund never reached the order: {now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_mail(fleet, &email, &format!("A refund of 1.00 EUR for order {number}")).await?;
    eprintln!("    an admin (TOTP) refunded 1.00 EUR through NGINX: order partially refunded, shopper mailed: ok");

    let response = http
        .post(format!("{api}/discounts"))
        .bearer_auth(&staff)
        .json(&serde_json::json!({"code": discount_code, "kind": "percent", "value": 1000}))
        .send()
        .await?;
    ensure!(response.status() == 201, "create a discount code: {}", response.status());
    let response = http
        .post(format!("{api}/carts/current/items"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"sku": sku, "quantity": 1}))
        .send()
        .await?;
    ensure!(response.status() == 200, "add to the cart again: {}", response.status());
    let response = http
        .post(format!("{api}/carts/current/discount"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"code": discount_code.to_ascii_lowercase()}))
        .send()
        .await?;
    ensure!(response.status() == 200, "apply the code: {}", response.status());
    let cart: serde_json::Value = response.json().await?;
    let subtotal = cart["subtotal_minor"].as_i64().context("a subtotal")?;
    ensure!(
        cart["discount_minor"].as_i64() == Some((subtotal * 1000 + 5000) / 10000)
            && cart["discount"]["code"] == discount_code.as_str(),
        "the cart shows 10 % off: {cart}"
    );
    eprintln!("    the admin's discount code shows in the shopper's cart (10 % of {subtotal}): ok");

    // The admin uploads an image: a presigned PUT straight to the S3 server, completed through
    // NGINX; its thumbnail is then served by NGINX from the stored objects, immutable.
    let picture: &[u8] = include_bytes!("../../assets/walk.png");
    let ticket: serde_json::Value = http
        .post(format!("{api}/media/uploads"))
        .bearer_auth(&staff)
        .json(&serde_json::json!({"filename": "walk.png", "content_type": "image/png", "size": picture.len()}))
        .send()
        .await?
        .json()
        .await?;
    let mut put = http.put(ticket["url"].as_str().with_context(|| format!("a presigned URL: {ticket}"))?);
    for (name, value) in ticket["headers"].as_object().context("the upload's headers")? {
        if !name.eq_ignore_ascii_case("content-length") {
            put = put.header(name, value.as_str().unwrap_or_default());
        }
    }
    let stored = put.body(picture.to_vec()).send().await?;
    ensure!(stored.status() == 200, "the presigned PUT: {}", stored.status());
    let upload_id = ticket["upload_id"].as_str().context("an upload id")?;
    let response = http.post(format!("{api}/media/uploads/{upload_id}/complete")).bearer_auth(&staff).send().await?;
    ensure!(response.status() == 201, "complete the upload: {}", response.status());
    let media: serde_json::Value = response.json().await?;
    let thumb = media["variants"]["thumb"].as_str().with_context(|| format!("a thumbnail: {media}"))?;
    let served = http.get(thumb).send().await?;
    ensure!(served.status() == 200, "the thumbnail at {thumb}: {}", served.status());
    let cache = served.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    ensure!(cache.contains("immutable"), "the thumbnail is immutable: {cache}");
    let bytes = served.bytes().await?;
    ensure!(bytes.starts_with(&[0xFF, 0xD8]), "the thumbnail is a JPEG");
    eprintln!(
        "    an admin uploaded an image (presigned PUT, completed through NGINX); its thumbnail is served immutable: ok"
    );

    // A content editor's page: written with the image, published, served through NGINX with its
    // ETag, and the storefront told to revalidate it.
    let media_id = media["media_id"].as_str().context("a media id")?;
    let slug = format!("walk-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let page = serde_json::json!({"slug": slug, "title": "Walk", "blocks": [
        {"type": "markdown", "markdown": "Hello <script>alert(1)</script> **walker**"},
        {"type": "image", "media_id": media_id, "alt": "a walk"},
    ]});
    let response = http.post(format!("{api}/content/pages")).bearer_auth(&staff).json(&page).send().await?;
    ensure!(response.status() == 201, "create a page: {}", response.status());
    let response = http.post(format!("{api}/content/pages/{slug}/publish")).bearer_auth(&staff).send().await?;
    ensure!(response.status() == 200, "publish the page: {}", response.status());
    let response = http.get(format!("{api}/content/pages/{slug}")).send().await?;
    ensure!(response.status() == 200, "the published page: {}", response.status());
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let public: serde_json::Value = response.json().await?;
    let html = public["blocks"][0]["html"].as_str().unwrap_or_default();
    ensure!(
        html.contains("<strong>walker</strong>") && !html.contains("<script"),
        "the page is rendered safely: {public}"
    );
    ensure!(public["blocks"][1]["image"]["url"].as_str().is_some(), "the page's image has its URL: {public}");
    let response = http.get(format!("{api}/content/pages/{slug}")).header("if-none-match", &etag).send().await?;
    ensure!(response.status() == 304, "the page again with its ETag: {}", response.status());
    let storefront = fleet.options.storefront.as_ref().context("the storefront receiver")?;
    let path = format!("/pages/{slug}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !crate::dev::storefront::received(&storefront.log).iter().any(|call| call["paths"][0] == path.as_str()) {
        ensure!(std::time::Instant::now() < deadline, "the storefront was not told to revalidate {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "    a staff member published a page; NGINX serves it (304 on its ETag); the storefront revalidated {path}: ok"
    );

    // The storefront reports a product view through the public tracking door; the paid order
    // and its refund reach the analytics rollups the staff reads (as CSV too).
    let now = chrono::Utc::now();
    let tracked = serde_json::json!({"events": [{"type": "product_view", "visitor_id": "walk-visitor",
        "session_id": "walk-session", "occurred_at": now, "product_id": media_id}]});
    // Signed in: the event carries the shopper's id (forgotten when they delete the account).
    let response = http.post(format!("{api}/analytics/events")).bearer_auth(&token).json(&tracked).send().await?;
    ensure!(response.status() == 202, "track a product view: {}", response.status());
    let today = now.date_naive();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let report: serde_json::Value = http
            .get(format!("{api}/analytics/revenue?from={today}&to={today}"))
            .bearer_auth(&staff)
            .send()
            .await?
            .json()
            .await?;
        let row = &report["items"][0];
        if row["orders"].as_i64() >= Some(1) && row["refunded_minor"].as_i64() >= Some(100) {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the paid order and its refund never reached analytics: {report}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let funnel = http
        .get(format!("{api}/analytics/funnel?from={today}&to={today}"))
        .bearer_auth(&staff)
        .header("accept", "text/csv")
        .send()
        .await?
        .text()
        .await?;
    ensure!(funnel.starts_with("period,product_views"), "the funnel as CSV: {funnel}");
    let response = http.get(format!("{api}/analytics/revenue")).bearer_auth(&token).send().await?;
    ensure!(response.status() == 403, "a shopper reading analytics: {}", response.status());
    eprintln!("    a tracked view, and the paid order with its refund, show in analytics (JSON and CSV): ok");

    // The staff dashboard: the same figures composed by admin, and its page of charts under its
    // own Content-Security-Policy.
    let summary: serde_json::Value =
        http.get(format!("{api}/admin/dashboard/summary")).bearer_auth(&staff).send().await?.json().await?;
    ensure!(summary["orders"].as_i64() >= Some(1), "the dashboard counts the paid order: {summary}");
    let page = http.get(format!("{api}/admin/dashboard")).bearer_auth(&staff).send().await?;
    ensure!(page.status() == 200, "the dashboard page: {}", page.status());
    let csp =
        page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    ensure!(csp.starts_with("default-src 'none'") && csp.contains("form-action 'none'"), "the dashboard's CSP: {csp}");
    let html = page.text().await?;
    ensure!(html.contains("<svg"), "the dashboard draws its charts");
    let response = http.get(format!("{api}/admin/dashboard")).bearer_auth(&token).send().await?;
    ensure!(response.status() == 403, "a shopper opening the dashboard: {}", response.status());
    eprintln!("    the admin dashboard shows the paid order, as JSON and as a page of SVG charts under its CSP: ok");

    // The back office: the shopper found by email, their orders, and the paid order with its
    // payment, refund and timeline, composed from auth, order and payment.
    let customer: serde_json::Value = http
        .get(format!("{api}/admin/customers?email={}", email.replace('@', "%40")))
        .bearer_auth(&staff)
        .send()
        .await?
        .json()
        .await?;
    ensure!(customer["email"] == email.as_str(), "the customer by email: {customer}");
    let customer_id = customer["id"].as_str().context("the customer's id")?;
    let theirs: serde_json::Value = http
        .get(format!("{api}/admin/customers/{customer_id}/orders"))
        .bearer_auth(&staff)
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        theirs["items"].as_array().is_some_and(|items| items.iter().any(|o| o["id"] == order_id)),
        "the customer's orders hold the paid one: {theirs}"
    );
    let detail: serde_json::Value =
        http.get(format!("{api}/admin/orders/{order_id}")).bearer_auth(&staff).send().await?.json().await?;
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
    let response = http.get(format!("{api}/admin/orders/{order_id}")).bearer_auth(&token).send().await?;
    ensure!(response.status() == 403, "a shopper reading the back office's order: {}", response.status());
    eprintln!(
        "    the back office finds the shopper, their orders, and the order with payment, refund and timeline: ok"
    );

    // Every staff write above is in the audit log, with what it changed: the page's creation
    // and publication (cms), the refund (payment), the upload (media).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for (target, action) in [
        (format!("page:{slug}"), "page.publish"),
        (format!("page:{slug}"), "page.create"),
        (format!("payment:{payment_id}"), "payment.refund"),
        (format!("media:{media_id}"), "media.upload"),
    ] {
        loop {
            let log: serde_json::Value = http
                .get(format!("{api}/admin/audit-log?target={target}"))
                .bearer_auth(&staff)
                .send()
                .await?
                .json()
                .await?;
            let found = log["items"].as_array().and_then(|items| items.iter().find(|e| e["action"] == action));
            if let Some(entry) = found {
                ensure!(entry["after"].is_object(), "{action} records what it made: {entry}");
                break;
            }
            ensure!(std::time::Instant::now() < deadline, "{action} on {target} never reached the audit log: {log}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    eprintln!("    the staff writes (page, refund, upload) are in the audit log with before and after: ok");

    // The request id sent through NGINX appears in the product service's log line of that request.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(fleet.log_path("product"))?;
        let found = log.lines().any(|line| {
            serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| {
                v["request_id"] == request_id.as_str() && v["route"] == "/products" && v["status"] == 200
            })
        });
        if found {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "request id {request_id} not in the product service's log");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("    request id {request_id} found in product's log: ok");

    // A bad token is refused even on a public route; NGINX hides metrics and internal paths.
    let response = http.get(format!("{api}/products")).bearer_auth("not.a.token").send().await?;
    ensure!(response.status() == 401, "a bad token on a public route: {}", response.status());
    for path in ["/metrics", "/api/v1/internal/keys", "/api/v1/products/../internal/x", "/api/v1/%69nternal/x"] {
        let response = http.get(format!("{}{path}", fleet.nginx_url())).send().await?;
        ensure!(response.status() == 404, "{path} through NGINX: {}", response.status());
    }
    eprintln!("    NGINX refuses /metrics and /internal: ok");

    // A spoofed CF-Connecting-IP from a peer outside Cloudflare's ranges is ignored.
    let spoof_id = format!("spoof-{}", uuid::Uuid::new_v4().simple());
    http.get(format!("{api}/products?limit=1"))
        .header("cf-connecting-ip", "203.0.113.9")
        .header("x-request-id", &spoof_id)
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let access = std::fs::read_to_string(fleet.options.run_dir.join("nginx/access.log"))?;
    let line = access.lines().find(|l| l.contains(&spoof_id)).context("access log line of the spoof request")?;
    let line: serde_json::Value = serde_json::from_str(line).context("the access log is JSON")?;
    ensure!(line["client_ip"] == "127.0.0.1", "CF-Connecting-IP from a non-Cloudflare peer is ignored: {line}");
    eprintln!("    JSON access log, CF-Connecting-IP trusted only from Cloudflare: ok");

    // The API's OpenAPI document and its reference, through NGINX.
    let spec = http.get(format!("{api}/openapi.json")).send().await?;
    ensure!(spec.status() == 200, "GET /api/v1/openapi.json: {}", spec.status());
    let csp = |response: &reqwest::Response| {
        response.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    };
    ensure!(csp(&spec).contains("default-src 'none'"), "the API keeps its strict CSP: {}", csp(&spec));
    let document: serde_json::Value = spec.json().await?;
    ensure!(document["openapi"] == "3.1.0", "an OpenAPI 3.1 document");
    ensure!(document["paths"].get("/api/v1/auth/login").is_some(), "the document describes /api/v1/auth/login");
    validate_openapi(&document, &fleet.options.run_dir)?;
    let docs = http.get(format!("{}/api/docs/", fleet.nginx_url())).send().await?;
    ensure!(docs.status() == 200, "GET /api/docs/: {}", docs.status());
    let docs_csp = csp(&docs);
    ensure!(docs_csp.contains("script-src 'self'") && !docs_csp.contains("https:"), "the reference's CSP: {docs_csp}");
    let page = docs.text().await?;
    ensure!(page.contains("swagger-ui") && !page.contains("https://"), "the reference loads nothing from elsewhere");
    let initializer = http.get(format!("{}/api/docs/swagger-initializer.js", fleet.nginx_url())).send().await?;
    ensure!(initializer.status() == 200, "the reference's own script: {}", initializer.status());
    ensure!(initializer.text().await?.contains("/api/v1/openapi.json"), "the reference points at the document");
    eprintln!("    OpenAPI document (validated) and the API reference at /api/docs with its own CSP: ok");

    // Every service's operational routes.
    // `cargo xtask test` installs promtool; skipping its check must be asked for.
    let promtool = std::process::Command::new("promtool").arg("--version").output().is_ok();
    if !promtool {
        let allowed = std::env::var("SHOPFLEET_ALLOW_SKIP").is_ok_and(|v| v.split(',').any(|s| s == "promtool"));
        ensure!(allowed, "promtool is missing (Debian package prometheus); set SHOPFLEET_ALLOW_SKIP=promtool to skip");
        eprintln!("    SKIPPED: the promtool check of /metrics (SHOPFLEET_ALLOW_SKIP=promtool)");
    }
    for spec in SERVICES {
        let base = fleet.service_url(spec.name);
        for path in ["/health", "/ready", "/metrics"] {
            let response = http.get(format!("{base}{path}")).send().await?;
            ensure!(response.status() == 200, "{} {path}: {}", spec.name, response.status());
            if path == "/metrics" {
                let text = response.text().await?;
                ensure!(text.contains("http_requests_total"), "{} exports http_requests_total", spec.name);
                if promtool {
                    check_with_promtool(spec.name, &text)?;
                }
            }
        }
    }
    eprintln!(
        "    /health, /ready and /metrics of all {} services: ok{}",
        SERVICES.len(),
        if promtool { " (promtool-checked)" } else { "" }
    );
    // Each binary's own probe (what a container's health check runs): healthy against its
    // running instance, unhealthy against a port where nothing listens.
    for spec in SERVICES {
        let bind = fleet.service_url(spec.name).trim_start_matches("http://").to_owned();
        let probe = |addr: &str| {
            std::process::Command::new(fleet.options.bin_dir.join(spec.name))
                .arg("healthcheck")
                .env(settings::shared::BIND_ADDR.name, addr)
                .output()
        };
        let healthy = probe(&bind)?;
        ensure!(healthy.status.success(), "{} healthcheck: {}", spec.name, String::from_utf8_lossy(&healthy.stderr));
        let nowhere = format!("127.0.0.1:{}", testkit::unused_port());
        ensure!(!probe(&nowhere)?.status.success(), "{} healthcheck passes with nothing listening", spec.name);
    }
    eprintln!("    `<service> healthcheck` of every binary: healthy against its instance, not against a dead port: ok");

    let account = Account { email: &email, password, token: &token, order_id, product_slug };
    self_service(fleet, &http, &api, &account, &staff).await?;

    // Last, since it spends this machine's credential budget: a caller reaching the gateway's
    // port directly is not NGINX, so the X-Real-IP it sends is not believed (review M2).
    let gateway = fleet.service_url("gateway");
    let mut statuses = Vec::new();
    for n in 0..25 {
        let response = http
            .post(format!("{gateway}/api/v1/auth/login"))
            .header("x-real-ip", format!("198.51.100.{n}"))
            .json(&serde_json::json!({"email": "nobody@example.com", "password": "wrong password 123"}))
            .send()
            .await?;
        statuses.push(response.status().as_u16());
    }
    ensure!(statuses.contains(&429), "spoofed X-Real-IP on the gateway's own port escaped the limit: {statuses:?}");
    eprintln!("    the gateway believes X-Real-IP only from NGINX (spoofing it directly hits the limit): ok");

    // Every service ran as its own Redis user without ever being refused, and the gateway
    // decided every request in Redis (no local fallback).
    for spec in SERVICES {
        let log = std::fs::read_to_string(fleet.log_path(spec.name)).unwrap_or_default();
        let refused = ["NOPERM", "no permissions", "throttle unavailable", "Redis unavailable"];
        ensure!(!refused.iter().any(|needle| log.contains(needle)), "{} was refused by Redis (ACL?)", spec.name);
    }
    let metrics = http.get(format!("{}/metrics", fleet.service_url("gateway"))).send().await?.text().await?;
    ensure!(
        metrics.lines().any(|l| l == "gateway_redis_fallback_total 0"),
        "the gateway fell back to its local limiter: Redis refused or failed it"
    );
    eprintln!("    each service ran as its own Redis ACL user, never refused: ok");
    Ok(())
}

/// Runs a standard validator (openapi-spec-validator, from PyPI) on the document; a missing
/// validator fails unless `SHOPFLEET_ALLOW_SKIP` names `openapi-validator`.
fn validate_openapi(document: &serde_json::Value, run_dir: &std::path::Path) -> anyhow::Result<()> {
    let path = run_dir.join("openapi.json");
    std::fs::write(&path, serde_json::to_vec_pretty(document)?)?;
    match std::process::Command::new("openapi-spec-validator").arg(&path).output() {
        Ok(output) => {
            let said = String::from_utf8_lossy(&output.stdout);
            ensure!(output.status.success(), "openapi-spec-validator refuses the document: {said}");
            Ok(())
        }
        Err(_) => {
            let allowed =
                std::env::var("SHOPFLEET_ALLOW_SKIP").is_ok_and(|v| v.split(',').any(|s| s == "openapi-validator"));
            ensure!(
                allowed,
                "openapi-spec-validator is missing (pip install openapi-spec-validator); \
                 set SHOPFLEET_ALLOW_SKIP=openapi-validator to skip"
            );
            eprintln!("    SKIPPED: validating the OpenAPI document (SHOPFLEET_ALLOW_SKIP=openapi-validator)");
            Ok(())
        }
    }
}

fn check_with_promtool(service: &str, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(text.as_bytes())?;
    let output = child.wait_with_output()?;
    // promtool exits 1 for lint warnings too; only real parse errors count here.
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(!stderr.contains("error while linting") && !stderr.contains("parse error"), "{service} /metrics: {stderr}");
    Ok(())
}

/// Waits (a few seconds at most) for the email to `recipient` and returns the token of its link
/// to the storefront's `page`.
/// The text of the first email to `recipient` whose text contains `needle`.
async fn wait_for_mail(fleet: &Fleet, recipient: &str, needle: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        for entry in std::fs::read_dir(fleet.mail_dir()).into_iter().flatten().flatten() {
            let text =
                testkit::mail::decode_quoted_printable(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            if text.contains(&format!("To: {recipient}")) && text.contains(needle) {
                return Ok(text);
            }
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "no email to {recipient} with {needle:?} under {}",
            fleet.mail_dir().display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn wait_for_mail_token(fleet: &Fleet, recipient: &str, page: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        for entry in std::fs::read_dir(fleet.mail_dir()).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.contains(&format!("To: {recipient}"))
                && let Some(token) = testkit::mail::token_in_link(&text, page)
            {
                return Ok(token);
            }
        }
        ensure!(std::time::Instant::now() < deadline, "no email to {recipient} under {}", fleet.mail_dir().display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The walk's shopper, as the last part of the walk needs them.
struct Account<'a> {
    email: &'a str,
    password: &'a str,
    token: &'a str,
    order_id: &'a str,
    /// A product they review.
    product_slug: &'a str,
}

/// The shopper's own account, last in the walk since it ends with the account deleted: a
/// review, the data export, a new email (confirmed from the new address; the old one is told),
/// a new password (their other session ends), and the deletion, after which every service has
/// forgotten them (checked in the services' own tables too).
async fn self_service(
    fleet: &Fleet,
    http: &reqwest::Client,
    api: &str,
    account: &Account<'_>,
    staff: &str,
) -> anyhow::Result<()> {
    let Account { email, password, token, order_id, product_slug } = *account;
    let review = serde_json::json!({"rating": 4, "title": "Walked in it", "body": "Fits the walk."});
    let response =
        http.post(format!("{api}/products/{product_slug}/reviews")).bearer_auth(token).json(&review).send().await?;
    ensure!(response.status() == 201, "review a product: {}", response.status());
    let response = http.get(format!("{api}/users/me/export")).bearer_auth(token).send().await?;
    ensure!(response.status() == 200, "the data export: {}", response.status());
    let disposition =
        response.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    ensure!(disposition.starts_with("attachment"), "the export is a download: {disposition}");
    let export: serde_json::Value = response.json().await?;
    ensure!(
        export["profile"]["email"] == email
            && export["orders"].as_array().is_some_and(|orders| orders.iter().any(|o| o["id"] == order_id))
            && export["reviews"][0]["title"] == "Walked in it",
        "the export holds the profile, the order and the review: {export}"
    );
    let user_id = export["profile"]["user_id"].as_str().context("the shopper's id")?.to_owned();
    let mut db = sqlx::PgConnection::connect(&fleet.admin_database_url()).await?;
    let tracked: i64 = sqlx::query_scalar("select count(*) from analytics.tracking_events where user_id = $1")
        .bind(&user_id)
        .fetch_one(&mut db)
        .await?;
    ensure!(tracked >= 1, "the signed-in view was tracked with the shopper's id");
    eprintln!("    the shopper downloads their data (profile, addresses, orders, reviews) as one document: ok");

    let sign_in = |email: String, password: String| async move {
        let response = http
            .post(format!("{api}/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        anyhow::Ok((status, body))
    };
    let (status, other) = sign_in(email.to_owned(), password.to_owned()).await?;
    ensure!(status == 200, "a second session: {status}");
    let other_token = other["access_token"].as_str().context("the second session's token")?.to_owned();

    let new_email = format!("moved-{email}");
    let response = http
        .post(format!("{api}/auth/email"))
        .bearer_auth(token)
        .json(&serde_json::json!({"password": password, "new_email": new_email}))
        .send()
        .await?;
    ensure!(response.status() == 202, "ask for a new email: {}", response.status());
    let link = wait_for_mail_token(fleet, &new_email, "confirm-email").await?;
    let response =
        http.post(format!("{api}/auth/email/confirm")).json(&serde_json::json!({"token": link})).send().await?;
    ensure!(response.status() == 200, "confirm the new email: {}", response.status());
    wait_for_mail_text(fleet, email, &format!("now uses {new_email}")).await?;
    eprintln!("    the shopper moved to a new email, confirmed from it; the old address was told: ok");

    let new_password = "a much better passphrase";
    let response = http
        .post(format!("{api}/auth/password"))
        .bearer_auth(token)
        .json(&serde_json::json!({"current_password": password, "new_password": new_password}))
        .send()
        .await?;
    ensure!(response.status() == 200, "change the password: {}", response.status());
    let response = http.get(format!("{api}/users/me")).bearer_auth(&other_token).send().await?;
    ensure!(response.status() == 401, "the other session ended with the password change: {}", response.status());
    let response = http.get(format!("{api}/users/me")).bearer_auth(token).send().await?;
    ensure!(response.status() == 200, "this session stays: {}", response.status());
    let (status, _) = sign_in(new_email.clone(), new_password.to_owned()).await?;
    ensure!(status == 200, "sign in with the new email and password: {status}");
    eprintln!("    the shopper changed the password; their other session ended, this one stayed: ok");

    let response = http
        .post(format!("{api}/auth/account/delete"))
        .bearer_auth(token)
        .json(&serde_json::json!({"password": new_password}))
        .send()
        .await?;
    ensure!(response.status() == 204, "delete the account: {}", response.status());
    let response = http.get(format!("{api}/users/me")).bearer_auth(token).send().await?;
    ensure!(response.status() == 401, "the deleted account's token: {}", response.status());
    let (status, _) = sign_in(new_email.clone(), new_password.to_owned()).await?;
    ensure!(status == 401, "the deleted account signs in: {status}");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let order: serde_json::Value =
            http.get(format!("{api}/admin/orders/{order_id}")).bearer_auth(staff).send().await?.json().await?;
        let messages: serde_json::Value =
            http.get(format!("{api}/notifications/messages")).bearer_auth(staff).send().await?.json().await?;
        let customer = http
            .get(format!("{api}/admin/customers?email={}", new_email.replace('@', "%40")))
            .bearer_auth(staff)
            .send()
            .await?;
        let anonymised = order["order"]["shipping_address"]["anonymised"] == true
            && order["order"]["total_minor"].as_i64() > Some(0);
        let recipients: Vec<&str> = messages["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|m| m["recipient"].as_str()).collect())
            .unwrap_or_default();
        let forgotten = !recipients.iter().any(|r| *r == email || *r == new_email) && recipients.contains(&"erased");
        if anonymised && forgotten && customer.status() == 404 {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the deleted shopper is still known: order {order}, recipients {recipients:?}, customer {}",
            customer.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // What no public route shows any more: the profile, the review, the tracked user id.
    for (what, sql) in [
        ("profile", "select count(*) from users.profiles where user_id = $1::uuid"),
        ("review", "select count(*) from catalog.reviews where user_id = $1::uuid"),
        ("tracking", "select count(*) from analytics.tracking_events where user_id = $1"),
    ] {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&user_id).fetch_one(&mut db).await?;
            if left == 0 {
                break;
            }
            ensure!(std::time::Instant::now() < deadline, "the deleted shopper's {what} is still stored ({left})");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    eprintln!(
        "    the shopper deleted the account: signed out everywhere, the order kept anonymised, profile, review and messages' addresses gone: ok"
    );
    Ok(())
}

/// Waits for an email to `recipient` that contains `text`.
async fn wait_for_mail_text(fleet: &Fleet, recipient: &str, text: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        for entry in std::fs::read_dir(fleet.mail_dir()).into_iter().flatten().flatten() {
            let mail = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if mail.contains(&format!("To: {recipient}"))
                && testkit::mail::decode_quoted_printable(&mail).contains(text)
            {
                return Ok(());
            }
        }
        ensure!(std::time::Instant::now() < deadline, "no email to {recipient} saying {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
