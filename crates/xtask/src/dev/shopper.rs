//! A shopper driving the public API through NGINX, as the crash test and the checkout benchmark
//! use one: signed up (registered, verified from the email, signed in, an address saved), and
//! every call retried the way a storefront would (same Idempotency-Key) while a service is down.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::dev::fleet::Fleet;

#[derive(Clone)]
pub(crate) struct Shopper {
    pub http: reqwest::Client,
    pub api: String,
    pub token: String,
    pub address_id: String,
}

/// An answer: status and JSON body (null when there is none).
pub(crate) type Answer = (u16, Value);

impl Shopper {
    /// Registers, verifies (the link in the email), signs in and saves a German address.
    pub(crate) async fn sign_up(fleet: &Fleet, http: &reqwest::Client) -> anyhow::Result<Self> {
        let api = format!("{}/api/v1", fleet.nginx_url());
        let email = format!("shopper-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery staple";
        let credentials = json!({"email": email, "password": password});
        let response = http.post(format!("{api}/auth/register")).json(&credentials).send().await?;
        ensure!(response.status() == 201, "register: {} {}", response.status(), response.text().await?);
        let token = crate::ci::fleet_walk::wait_for_mail_token(fleet, &email, "verify-email").await?;
        let response = http.post(format!("{api}/auth/verify-email")).json(&json!({"token": token})).send().await?;
        ensure!(response.status() == 200, "verify-email: {}", response.status());
        let login: Value = http.post(format!("{api}/auth/login")).json(&credentials).send().await?.json().await?;
        let token = login["access_token"].as_str().context("an access token")?.to_owned();
        let mut shopper = Shopper { http: http.clone(), api, token, address_id: String::new() };
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
        let mut request = self.http.request(method, format!("{}{path}", self.api)).bearer_auth(&self.token);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
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
