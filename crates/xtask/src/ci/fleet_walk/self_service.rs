//! The shopper's own account, last in the walk since it ends with the account deleted: a
//! review, the data export, a new email (confirmed from the new address; the old one is told),
//! a new password (their other session ends), and the deletion, after which every service has
//! forgotten them (checked in the services' own tables too).

use std::time::Duration;

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};
use sqlx::Connection as _;

use super::{PASSWORD, Walk, until};
use crate::dev::api::{Answer, answer};

const NEW_PASSWORD: &str = "a much better passphrase";

impl Walk<'_> {
    pub(super) async fn self_service(&self) -> anyhow::Result<()> {
        let user_id = self.review_and_export().await?;
        let new_email = self.move_to_a_new_email().await?;
        self.change_the_password(&new_email).await?;
        self.delete_the_account(&new_email, &user_id).await
    }

    async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<Answer> {
        Ok(answer(self.api.post("/auth/login").json(&json!({"email": email, "password": password}))).await?)
    }

    /// A review, then the data export (a download) holding the profile, the order and the
    /// review; the signed-in view was tracked with the shopper's id. The shopper's id.
    async fn review_and_export(&self) -> anyhow::Result<String> {
        let slug = self.product["slug"].as_str().context("the product's slug")?;
        let review = json!({"rating": 4, "title": "Walked in it", "body": "Fits the walk."});
        let (status, _) =
            answer(self.api.post(&format!("/products/{slug}/reviews")).bearer_auth(&self.token).json(&review)).await?;
        ensure!(status == 201, "review a product: {status}");
        let response = self.api.get("/users/me/export").bearer_auth(&self.token).send().await?;
        ensure!(response.status() == 200, "the data export: {}", response.status());
        let disposition =
            response.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        ensure!(disposition.starts_with("attachment"), "the export is a download: {disposition}");
        let export: Value = response.json().await?;
        ensure!(
            export["profile"]["email"] == self.email.as_str()
                && export["orders"].as_array().is_some_and(|orders| orders.iter().any(|o| o["id"] == self.order_id()))
                && export["reviews"][0]["title"] == "Walked in it",
            "the export holds the profile, the order and the review: {export}"
        );
        let user_id = export["profile"]["user_id"].as_str().context("the shopper's id")?.to_owned();
        let mut db = sqlx::PgConnection::connect(&self.fleet.admin_database_url()).await?;
        let tracked: i64 = sqlx::query_scalar("select count(*) from analytics.tracking_events where user_id = $1")
            .bind(&user_id)
            .fetch_one(&mut db)
            .await?;
        ensure!(tracked >= 1, "the signed-in view was tracked with the shopper's id");
        eprintln!("    the shopper downloads their data (profile, addresses, orders, reviews) as one document: ok");
        Ok(user_id)
    }

    /// A new email, confirmed from the new address; the old address is told. The new email.
    async fn move_to_a_new_email(&self) -> anyhow::Result<String> {
        let new_email = format!("moved-{}", self.email);
        let ask = self.api.post("/auth/email").bearer_auth(&self.token);
        let (status, _) = answer(ask.json(&json!({"password": PASSWORD, "new_email": new_email}))).await?;
        ensure!(status == 202, "ask for a new email: {status}");
        let link = crate::dev::mail::token_for(self.fleet, &new_email, "confirm-email").await?;
        let (status, _) = answer(self.api.post("/auth/email/confirm").json(&json!({"token": link}))).await?;
        ensure!(status == 200, "confirm the new email: {status}");
        crate::dev::mail::text_with(self.fleet, &self.email, &format!("now uses {new_email}")).await?;
        eprintln!("    the shopper moved to a new email, confirmed from it; the old address was told: ok");
        Ok(new_email)
    }

    /// A second session, then a new password: the other session ends, this one stays, and the
    /// new email signs in with the new password.
    async fn change_the_password(&self, new_email: &str) -> anyhow::Result<()> {
        let (status, other) = self.sign_in(new_email, PASSWORD).await?;
        ensure!(status == 200, "a second session: {status}");
        let other_token = other["access_token"].as_str().context("the second session's token")?.to_owned();
        let change = self.api.post("/auth/password").bearer_auth(&self.token);
        let (status, _) =
            answer(change.json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))).await?;
        ensure!(status == 200, "change the password: {status}");
        let (status, _) = answer(self.api.get("/users/me").bearer_auth(&other_token)).await?;
        ensure!(status == 401, "the other session ended with the password change: {status}");
        let (status, _) = answer(self.api.get("/users/me").bearer_auth(&self.token)).await?;
        ensure!(status == 200, "this session stays: {status}");
        let (status, _) = self.sign_in(new_email, NEW_PASSWORD).await?;
        ensure!(status == 200, "sign in with the new email and password: {status}");
        eprintln!("    the shopper changed the password; their other session ended, this one stayed: ok");
        Ok(())
    }

    /// The deletion: signed out everywhere, the order kept anonymised, the messages' addresses
    /// erased, and the profile, the review and the tracked id gone from the services' tables.
    async fn delete_the_account(&self, new_email: &str, user_id: &str) -> anyhow::Result<()> {
        let delete = self.api.post("/auth/account/delete").bearer_auth(&self.token);
        let (status, _) = answer(delete.json(&json!({"password": NEW_PASSWORD}))).await?;
        ensure!(status == 204, "delete the account: {status}");
        let (status, _) = answer(self.api.get("/users/me").bearer_auth(&self.token)).await?;
        ensure!(status == 401, "the deleted account's token: {status}");
        let (status, _) = self.sign_in(new_email, NEW_PASSWORD).await?;
        ensure!(status == 401, "the deleted account signs in: {status}");
        until(
            Duration::from_secs(15),
            Duration::from_millis(200),
            "the deleted shopper is still known",
            async |last| {
                let (_, order) =
                    answer(self.api.get(&format!("/admin/orders/{}", self.order_id())).bearer_auth(&self.staff))
                        .await?;
                let (_, messages) = answer(self.api.get("/notifications/messages").bearer_auth(&self.staff)).await?;
                let by_email = format!("/admin/customers?email={}", new_email.replace('@', "%40"));
                let (customer, _) = answer(self.api.get(&by_email).bearer_auth(&self.staff)).await?;
                let anonymised = order["order"]["shipping_address"]["anonymised"] == true
                    && order["order"]["total_minor"].as_i64() > Some(0);
                let recipients: Vec<&str> = messages["items"]
                    .as_array()
                    .map(|items| items.iter().filter_map(|m| m["recipient"].as_str()).collect())
                    .unwrap_or_default();
                let forgotten =
                    !recipients.iter().any(|r| *r == self.email || *r == new_email) && recipients.contains(&"erased");
                *last = format!("order {order}, recipients {recipients:?}, customer {customer}");
                Ok((anonymised && forgotten && customer == 404).then_some(()))
            },
        )
        .await?;
        let mut db = sqlx::PgConnection::connect(&self.fleet.admin_database_url()).await?;
        for (what, sql) in [
            ("profile", "select count(*) from users.profiles where user_id = $1::uuid"),
            ("review", "select count(*) from catalog.reviews where user_id = $1::uuid"),
            ("tracking", "select count(*) from analytics.tracking_events where user_id = $1"),
        ] {
            let gone = format!("the deleted shopper's {what} is still stored");
            until(Duration::from_secs(10), Duration::from_millis(200), &gone, async |last| {
                let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_one(&mut db).await?;
                *last = left.to_string();
                Ok((left == 0).then_some(()))
            })
            .await?;
        }
        eprintln!(
            "    the shopper deleted the account: signed out everywhere, the order kept anonymised, profile, review and messages' addresses gone: ok"
        );
        Ok(())
    }
}
