//! Invoices: issued when an order is paid, numbered from the year's gap-free sequence even when
//! orders are paid at once, kept as issued (the database refuses a change), and served as a
//! PDF a person can read (its text extracted with `pdftotext`) to its shopper and to staff only.

use std::io::Write as _;

use auth_jwt::Role;
use chrono::Datelike;
use futures_util::future::join_all;
use internal_token::Subject;
use testkit::ServiceCaller;

use crate::helpers::{Shop, Shopper, confirm, start_payment, wait_for_order};

/// The text of a PDF, as `pdftotext` extracts it.
fn pdf_text(pdf: &[u8]) -> String {
    let mut child = std::process::Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils) is installed");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext reads it");
    String::from_utf8(out.stdout).unwrap()
}

async fn invoice(caller: &ServiceCaller, order_id: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = caller.request(reqwest::Method::GET, &format!("/orders/{order_id}/invoice")).send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, kind, response.bytes().await.unwrap().to_vec())
}

/// Places and pays one unit of DEMO-0001-M for `shopper`; the order's id.
async fn paid(shopper: &Shopper, key: &str) -> String {
    shopper.add("DEMO-0001-M", 1).await;
    let (status, order) = shopper.place(key).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let payment_id = start_payment(shopper, &id).await;
    confirm(shopper, &payment_id, "4242424242424242").await;
    wait_for_order(shopper, &id, "paid").await;
    id
}

#[tokio::test]
async fn a_paid_order_has_one_invoice_as_a_pdf_numbered_without_gaps_and_never_changed() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 50).await;
    let ann = shop.shopper(true).await;
    ann.add("DEMO-0001-M", 1).await;
    let (_, unpaid) = ann.place("unpaid").await;
    let (status, _, _) = invoice(&ann.order, unpaid["id"].as_str().unwrap()).await;
    assert_eq!(status, 404, "no invoice before payment");
    let cancel = format!("/orders/{}/cancel", unpaid["id"].as_str().unwrap());
    assert_eq!(ann.order.send_json(reqwest::Method::POST, &cancel, None).await.0, 200);

    let id = paid(&ann, "first").await;
    let (status, kind, pdf) = invoice(&ann.order, &id).await;
    assert_eq!((status, kind.as_deref()), (200, Some("application/pdf")));
    let text = pdf_text(&pdf);
    let year = chrono::Utc::now().year();
    let order = ann.order.get(&format!("/orders/{id}")).await.1;
    for expected in [
        format!("Invoice INV-{year}-000001"),
        format!("Order {}", order["number"].as_str().unwrap()),
        "Shopfleet Demo GmbH".to_owned(),
        "Ada Lovelace".to_owned(),
        "DEMO-0001-M".to_owned(),
        "VAT 19.00 % included in".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }
    let total = order["total_minor"].as_i64().unwrap();
    assert!(text.contains(&format!("{}.{:02} EUR", total / 100, total % 100)), "the total in:\n{text}");

    // Only its shopper, and staff who read orders, get it.
    let bob = shop.shopper(true).await;
    assert_eq!(invoice(&bob.order, &id).await.0, 404, "another shopper's order is not found");
    let staff = ServiceCaller::new("order", shop.order_addr).as_subject(Subject::user(
        uuid::Uuid::now_v7().to_string(),
        Role::Admin,
        vec!["orders:read".into()],
    ));
    assert_eq!(invoice(&staff, &id).await.0, 200);

    // Six shoppers paying at once take the next six numbers, none skipped or shared.
    let shoppers = join_all((0..6).map(|_| shop.shopper(true))).await;
    join_all(shoppers.iter().enumerate().map(|(i, s)| async move { paid(s, &format!("race-{i}")).await })).await;
    let sequences: Vec<i32> =
        sqlx::query_scalar("select sequence from invoices where kind = 'invoice' order by sequence")
            .fetch_all(&shop.order_pool)
            .await
            .unwrap();
    assert_eq!(sequences, (1..=7).collect::<Vec<_>>());
    let refused = sqlx::query("update invoices set number = 'INV-0' where order_id = $1::uuid")
        .bind(&id)
        .execute(&shop.order_pool)
        .await;
    assert!(refused.is_err(), "an issued invoice cannot change");
    assert!(sqlx::query("delete from invoices").execute(&shop.order_pool).await.is_err(), "nor go");
}

/// Each refund of an invoiced order issues a credit note against its invoice (its own gap-free
/// sequence, the VAT the refunded amount contains), served as a PDF to the order's shopper.
#[tokio::test]
async fn each_refund_issues_one_credit_note_against_the_invoice() {
    let shop = Shop::spawn().await;
    shop.stock("DEMO-0001-M", 10).await;
    let ann = shop.shopper(true).await;
    let id = paid(&ann, "refunded").await;
    let payment_id: String = sqlx::query_scalar("select id::text from payments where order_id = $1::uuid")
        .bind(&id)
        .fetch_one(&shop.payment_pool)
        .await
        .unwrap();
    let path = format!("/payments/{payment_id}/refunds");
    let response = shop
        .refunds
        .request(reqwest::Method::POST, &path)
        .header("idempotency-key", "credit-1")
        .json(&serde_json::json!({"amount_minor": 119, "reason": "a scratch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let year = chrono::Utc::now().year();
    let number = format!("CN-{year}-000001");
    testkit::wait::until("the credit note is issued", || async {
        ann.order.get(&format!("/orders/{id}")).await.1["credit_notes"] == serde_json::json!([number])
    })
    .await;
    let response =
        ann.order.request(reqwest::Method::GET, &format!("/orders/{id}/credit-notes/{number}")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = pdf_text(&response.bytes().await.unwrap());
    for expected in [
        format!("Credit note {number} for invoice INV-{year}-000001"),
        "Refund: a scratch".to_owned(),
        "1.19 EUR".to_owned(),
        "VAT 19.00 % included in 1.19 EUR".to_owned(),
        "0.19 EUR".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }
    let bob = shop.shopper(true).await;
    let other =
        bob.order.request(reqwest::Method::GET, &format!("/orders/{id}/credit-notes/{number}")).send().await.unwrap();
    assert_eq!(other.status(), 404);
    let none = ann
        .order
        .request(reqwest::Method::GET, &format!("/orders/{id}/credit-notes/CN-{year}-000009"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
    let notes: i64 = sqlx::query_scalar("select count(*) from invoices where kind = 'credit_note'")
        .fetch_one(&shop.order_pool)
        .await
        .unwrap();
    assert_eq!(notes, 1, "one per refund");
}
