//! The statements of invoices (schema `orders`): the next number of a gap-free sequence per
//! kind and year (its row locked until the paying transaction ends), what an order's invoice
//! is made of, the invoice as issued, and reading it back.

use contracts::types::{Amount, Currency};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::invoices::Document;

/// The next number of `kind`'s sequence in `year` (1 for the year's first), its row locked
/// until `tx` ends: a transaction that rolls back gives it back, so the sequence has no gaps.
pub(crate) async fn next_sequence(tx: &mut PgConnection, kind: &str, year: i32) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "insert into invoice_sequences (kind, year, last) values ($1, $2, 1) \
         on conflict (kind, year) do update set last = invoice_sequences.last + 1 returning last",
    )
    .bind(kind)
    .bind(year)
    .fetch_one(&mut *tx)
    .await
}

/// What an order's invoice is made of.
#[derive(sqlx::FromRow)]
pub(crate) struct Source {
    pub number: String,
    pub currency: Currency,
    pub subtotal_minor: Amount,
    pub discount_minor: Amount,
    pub shipping_minor: Amount,
    pub shipping_tax_minor: Amount,
    pub total_minor: Amount,
    pub billing_address: serde_json::Value,
    pub vat_id: Option<String>,
    pub tax_rate_bp: i32,
    pub lines: Json<Vec<SourceLine>>,
}

/// One line of it.
#[derive(serde::Deserialize)]
pub(crate) struct SourceLine {
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub tax_rate_bp: i64,
}

pub(crate) async fn source(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<Option<Source>> {
    sqlx::query_as(
        "select o.number, o.currency::text as currency, o.subtotal_minor, o.discount_minor, o.shipping_minor, o.shipping_tax_minor, o.total_minor, \
           coalesce(o.billing_address, o.shipping_address) as billing_address, o.vat_id, coalesce(o.tax_rate_bp, 0) as tax_rate_bp, \
           coalesce((select json_agg(json_build_object('sku', l.sku, 'title', l.title, 'quantity', l.quantity, \
              'unit_price_minor', l.unit_price_minor, 'discount_minor', l.discount_minor, 'tax_minor', l.tax_minor, \
              'tax_rate_bp', coalesce(l.tax_rate_bp, o.tax_rate_bp, 0)) \
              order by l.position) from order_lines l where l.order_id = o.id), '[]'::json) as lines \
         from orders o where o.id = $1",
    )
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await
}

/// The number of the order's invoice, if it has one.
pub(crate) async fn invoice_number(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select number from invoices where order_id = $1 and kind = 'invoice'")
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await
}

/// Whether a refund has its credit note already (a replayed refund issues none).
pub(crate) async fn has_credit_note(tx: &mut PgConnection, refund_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from invoices where refund_id = $1)")
        .bind(refund_id)
        .fetch_one(&mut *tx)
        .await
}

/// An invoice or credit note as issued.
pub(crate) struct Issued<'a> {
    pub order_id: Uuid,
    /// A credit note's refund.
    pub refund_id: Option<Uuid>,
    pub kind: &'a str,
    pub year: i32,
    pub sequence: i32,
    pub document: &'a Document,
}

pub(crate) async fn insert(tx: &mut PgConnection, issued: &Issued<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into invoices (id, order_id, kind, year, sequence, number, issued_at, document, refund_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(issued.order_id)
    .bind(issued.kind)
    .bind(issued.year)
    .bind(issued.sequence)
    .bind(&issued.document.number)
    .bind(issued.document.issued_at)
    .bind(Json(issued.document))
    .bind(issued.refund_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A document of an order of `owner` (any order for staff: `None`), as issued: its invoice
/// (`number` `None`) or the credit note numbered `number`.
pub(crate) async fn document_of(
    pool: &PgPool,
    order_id: Uuid,
    number: Option<&str>,
    owner: Option<Uuid>,
) -> sqlx::Result<Option<Document>> {
    let document: Option<Json<Document>> = sqlx::query_scalar(
        "select i.document from invoices i join orders o on o.id = i.order_id \
         where i.order_id = $1 and ($3::uuid is null or o.user_id = $3) \
           and (($2::text is null and i.kind = 'invoice') or (i.kind = 'credit_note' and i.number = $2))",
    )
    .bind(order_id)
    .bind(number)
    .bind(owner)
    .fetch_optional(pool)
    .await?;
    Ok(document.map(|d| d.0))
}

/// The order's documents for its view: the invoice's number and the credit notes', as JSON.
pub(crate) const VIEW_COLUMNS: &str = "(select i.number from invoices i where i.order_id = o.id and i.kind = 'invoice') as invoice_number, \
     coalesce((select json_agg(i.number order by i.sequence) from invoices i \
       where i.order_id = o.id and i.kind = 'credit_note'), '[]'::json) as credit_notes, ";
