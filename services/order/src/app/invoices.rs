//! Issuing invoices and credit notes: when an order is paid, in the paying transaction, its
//! invoice is built from the order as it stands and stored with the next number of the year's
//! gap-free sequence; each refund of an invoiced order, in the transaction that records it,
//! issues a credit note against that invoice from its own sequence. An event delivered twice
//! issues one document.

use chrono::{DateTime, Datelike, Utc};
use contracts::types::Amount;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::invoices::{Document, InvoiceLine, Kind, Seller, TaxAtRate, invoice_number};
use crate::store::invoices::{self as store, Issued, Source};

/// Issues the paid order's invoice in `tx` (none when it has one); its number.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub(crate) async fn issue(tx: &mut PgConnection, order_id: Uuid, seller: &Seller) -> sqlx::Result<Option<String>> {
    if store::has_invoice(tx, order_id).await? {
        return Ok(None);
    }
    let Some(mut source) = store::source(tx, order_id).await? else { return Ok(None) };
    let issued_at = Utc::now();
    let year = issued_at.year();
    let sequence = store::next_sequence(tx, "invoice", year).await?;
    let lines: Vec<InvoiceLine> = std::mem::take(&mut source.lines.0)
        .into_iter()
        .map(|l| InvoiceLine {
            sku: l.sku,
            title: l.title,
            quantity: l.quantity,
            unit_price_minor: Amount::new(l.unit_price_minor),
            discount_minor: Amount::new(l.discount_minor),
            tax_minor: Amount::new(l.tax_minor),
        })
        .collect();
    // Prices are gross and every line, like shipping, is taxed at the destination's standard
    // rate: the whole total at that rate, and the tax it contains.
    let taxes = vec![TaxAtRate {
        rate_bp: i64::from(source.tax_rate_bp),
        gross_minor: source.total_minor,
        tax_minor: source.tax_minor,
    }];
    let document = Document {
        lines,
        subtotal_minor: source.subtotal_minor,
        discount_minor: source.discount_minor,
        shipping_minor: source.shipping_minor,
        total_minor: source.total_minor,
        taxes,
        ..blank(Kind::Invoice, (issued_at, sequence), &source, seller)
    };
    let issued =
        Issued { order_id, refund_id: None, kind: Kind::Invoice.as_str(), year, sequence, document: &document };
    store::insert(tx, &issued).await?;
    Ok(Some(document.number))
}

/// A document of `kind` for `source`'s order, issued at `when` with its number of the year's
/// `sequence`, saying who sells and who buys; no lines and no money yet.
fn blank(kind: Kind, (issued_at, sequence): (DateTime<Utc>, i32), source: &Source, seller: &Seller) -> Document {
    Document {
        kind,
        number: invoice_number(kind, issued_at.year(), sequence),
        refers_to: None,
        issued_at,
        order_number: source.number.clone(),
        seller: seller.clone(),
        bill_to: crate::domain::address_lines(&source.billing_address),
        buyer_vat_id: source.vat_id.clone(),
        currency: source.currency,
        lines: Vec::new(),
        subtotal_minor: Amount::ZERO,
        discount_minor: Amount::ZERO,
        shipping_minor: Amount::ZERO,
        total_minor: Amount::ZERO,
        taxes: Vec::new(),
    }
}

/// A refund of the order, as the credit note says it.
pub(crate) struct Refund<'a> {
    pub refund_id: Uuid,
    pub amount: Amount,
    pub reason: &'a str,
}

/// Issues the credit note of `refund` in `tx` (none for an order without an invoice, an order
/// that ended unpaid, or a refund that has one); its number. Its VAT is the share the refunded
/// gross contains at the order's rate, half-up.
#[tracing::instrument(skip_all, fields(order_id = %order_id, refund_id = %refund.refund_id))]
pub(crate) async fn credit(
    tx: &mut PgConnection,
    order_id: Uuid,
    refund: &Refund<'_>,
    seller: &Seller,
) -> sqlx::Result<Option<String>> {
    let Some(invoice) = store::invoice_number(tx, order_id).await? else { return Ok(None) };
    if store::has_credit_note(tx, refund.refund_id).await? {
        return Ok(None);
    }
    let Some(source) = store::source(tx, order_id).await? else { return Ok(None) };
    let issued_at = Utc::now();
    let year = issued_at.year();
    let sequence = store::next_sequence(tx, Kind::CreditNote.as_str(), year).await?;
    let rate = i64::from(source.tax_rate_bp);
    let tax = Amount::new(crate::domain::div_half_up(
        i128::from(refund.amount.minor()) * i128::from(rate),
        i128::from(10_000 + rate),
    ));
    let line = InvoiceLine {
        sku: "REFUND".to_owned(),
        title: format!("Refund: {}", refund.reason),
        quantity: 1,
        unit_price_minor: refund.amount,
        discount_minor: Amount::ZERO,
        tax_minor: tax,
    };
    let document = Document {
        refers_to: Some(invoice),
        lines: vec![line],
        subtotal_minor: refund.amount,
        total_minor: refund.amount,
        taxes: vec![TaxAtRate { rate_bp: rate, gross_minor: refund.amount, tax_minor: tax }],
        ..blank(Kind::CreditNote, (issued_at, sequence), &source, seller)
    };
    let kind = Kind::CreditNote.as_str();
    let issued = Issued { order_id, refund_id: Some(refund.refund_id), kind, year, sequence, document: &document };
    store::insert(tx, &issued).await?;
    Ok(Some(document.number))
}
