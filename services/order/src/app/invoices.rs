//! Issuing invoices and credit notes: when an order is paid, in the paying transaction, its
//! invoice is built from the order as it stands and stored with the next number of the year's
//! gap-free sequence; each refund of an invoiced order, in the transaction that records it,
//! issues a credit note against that invoice from its own sequence. An event delivered twice
//! issues one document.

use chrono::{Datelike, Utc};
use contracts::types::Amount;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::invoices::{Document, InvoiceLine, Kind, Seller, TaxAtRate, invoice_number};
use crate::store::invoices::{self as store, Issued};

/// Issues the paid order's invoice in `tx` (none when it has one); its number.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub(crate) async fn issue(tx: &mut PgConnection, order_id: Uuid, seller: &Seller) -> sqlx::Result<Option<String>> {
    if store::has_invoice(tx, order_id).await? {
        return Ok(None);
    }
    let Some(source) = store::source(tx, order_id).await? else { return Ok(None) };
    let issued_at = Utc::now();
    let year = issued_at.year();
    let sequence = store::next_sequence(tx, "invoice", year).await?;
    let lines: Vec<InvoiceLine> = source
        .lines
        .0
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
    // Prices are gross and the order was priced at one rate: the lines after their discount,
    // and the tax they contain.
    let gross =
        lines.iter().map(|l| l.unit_price_minor.minor().saturating_mul(l.quantity) - l.discount_minor.minor()).sum();
    let tax = lines.iter().map(|l| l.tax_minor.minor()).sum();
    let taxes = vec![TaxAtRate {
        rate_bp: i64::from(source.tax_rate_bp),
        gross_minor: Amount::new(gross),
        tax_minor: Amount::new(tax),
    }];
    let document = Document {
        kind: Kind::Invoice,
        number: invoice_number(Kind::Invoice, year, sequence),
        refers_to: None,
        issued_at,
        order_number: source.number,
        seller: seller.clone(),
        bill_to: crate::domain::address_lines(&source.billing_address),
        buyer_vat_id: source.vat_id,
        currency: source.currency,
        lines,
        subtotal_minor: source.subtotal_minor,
        discount_minor: source.discount_minor,
        shipping_minor: source.shipping_minor,
        total_minor: source.total_minor,
        taxes,
    };
    let issued =
        Issued { order_id, refund_id: None, kind: Kind::Invoice.as_str(), year, sequence, document: &document };
    store::insert(tx, &issued).await?;
    Ok(Some(document.number))
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
        kind: Kind::CreditNote,
        number: invoice_number(Kind::CreditNote, year, sequence),
        refers_to: Some(invoice),
        issued_at,
        order_number: source.number,
        seller: seller.clone(),
        bill_to: crate::domain::address_lines(&source.billing_address),
        buyer_vat_id: source.vat_id,
        currency: source.currency,
        lines: vec![line],
        subtotal_minor: refund.amount,
        discount_minor: Amount::ZERO,
        shipping_minor: Amount::ZERO,
        total_minor: refund.amount,
        taxes: vec![TaxAtRate { rate_bp: rate, gross_minor: refund.amount, tax_minor: tax }],
    };
    let kind = Kind::CreditNote.as_str();
    let issued = Issued { order_id, refund_id: Some(refund.refund_id), kind, year, sequence, document: &document };
    store::insert(tx, &issued).await?;
    Ok(Some(document.number))
}
