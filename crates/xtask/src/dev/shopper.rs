//! A shopper driving the public API through NGINX, as the crash test and the checkout benchmark
//! use one: signed up (registered, verified from the email, signed in, an address saved), and
//! every call retried the way a storefront would (same Idempotency-Key) while a service is down.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::dev::api::{Answer, Api, answer};
use crate::dev::fleet::Fleet;

/// The settings a shop under the load of many shoppers runs with (the crash test, the checkout
/// benchmark): short payment windows so unpaid orders
/// expire within it, fast reconciliation, a crashed checkout's key free after 10 s, limits out
/// of the way of one machine's traffic.
pub(crate) const LOADED_SHOP: &[(&str, &str)] = &[
    (settings::service::order::ORDER_PAYMENT_WINDOW_SECS.name, "25"),
    (settings::service::order::ORDER_EXPIRY_SWEEP_SECS.name, "1"),
    (settings::service::order::ORDER_KEY_IN_FLIGHT_SECS.name, "10"),
    (settings::service::payment::PAYMENT_RECONCILE_EVERY_SECS.name, "2"),
    (settings::service::payment::PAYMENT_RECONCILE_AFTER_SECS.name, "5"),
    // A shopper's paid orders stay unpaid until the webhook lands, which a crash delays.
    (settings::service::order::ORDER_MAX_UNPAID.name, "1000"),
    (settings::service::gateway::RATE_LIMIT_CREDENTIALS.name, "1000000/1/1000000"),
    (settings::service::gateway::RATE_LIMIT_WRITE.name, "1000000/1/1000000"),
    (settings::service::gateway::RATE_LIMIT_READ.name, "1000000/1/1000000"),
    (settings::service::gateway::RATE_LIMIT_WEBHOOK.name, "1000000/1/1000000"),
];

#[derive(Clone)]
pub(crate) struct Shopper {
    pub api: Api,
    pub token: String,
    pub address_id: String,
}

impl Shopper {
    /// Registers, verifies (the link in the email), signs in and saves a German address.
    pub(crate) async fn sign_up(fleet: &Fleet, http: &reqwest::Client) -> anyhow::Result<Self> {
        let api = Api::new(fleet, http.clone());
        let email = format!("shopper-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery staple";
        let credentials = json!({"email": email, "password": password});
        let response = api.post("/auth/register").json(&credentials).send().await?;
        ensure!(response.status() == 201, "register: {} {}", response.status(), response.text().await?);
        let token = crate::dev::mail::token_for(fleet, &email, "verify-email").await?;
        let (status, _) = answer(api.post("/auth/verify-email").json(&json!({"token": token}))).await?;
        ensure!(status == 200, "verify-email: {status}");
        let (_, login) = answer(api.post("/auth/login").json(&credentials)).await?;
        let token = login["access_token"].as_str().context("an access token")?.to_owned();
        let mut shopper = Shopper { api, token, address_id: String::new() };
        // The profile is made from USER_REGISTERED; the address needs it.
        let address = json!({"recipient_name": "Crash Tester", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "DE"});
        let (status, saved) = shopper.call(Method::POST, "/users/me/addresses", None, Some(address)).await?;
        ensure!(status == 201, "save an address: {status} {saved}");
        shopper.address_id = saved["id"].as_str().context("an address id")?.to_owned();
        Ok(shopper)
    }

    /// One call, no retries.
    pub(crate) async fn once(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Result<Answer> {
        let mut request = self.api.request(method, path).bearer_auth(&self.token);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request).await
    }

    /// A call retried (same key, same body) while the answer says the service is down or the
    /// key is still in flight, for up to 90 seconds; the first other answer is returned.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let last = match self.once(method.clone(), path, key, body.clone()).await {
                Ok((status, body)) => {
                    let retry = matches!(status, 502..=504 | 429) || body["code"] == "idempotency_key_in_use";
                    if !retry {
                        return Ok((status, body));
                    }
                    format!("{status} {body}")
                }
                Err(error) => error.to_string(),
            };
            ensure!(Instant::now() < deadline, "{method} {path} kept failing: {last}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
