//! Issuing invoices and credit notes: when an order is paid, in the paying transaction, its
//! invoice is built from the order as it stands and stored with the next number of the year's
//! gap-free sequence; each refund of an invoiced order, in the transaction that records it,
//! issues a credit note against that invoice from its own sequence. Each document is issued
//! once: the invoice with the order's one `Pay` transition, a credit note once per refund.

use chrono::{DateTime, Datelike, Utc};
use contracts::types::Amount;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::invoices::{Document, InvoiceLine, Kind, Seller, TaxAtRate, invoice_number};
use crate::store::invoices::{self as store, Issued, Source};

/// Issues the paid order's invoice in `tx`, the transaction of its one `Pay` transition (so
/// once; `invoices_one_invoice_per_order` holds it too); its number.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub(crate) async fn issue(tx: &mut PgConnection, order_id: Uuid, seller: &Seller) -> sqlx::Result<Option<String>> {
    let Some(mut source) = store::source(tx, order_id).await? else { return Ok(None) };
    let issued_at = Utc::now();
    let year = issued_at.year();
    let sequence = store::next_sequence(tx, Kind::Invoice.as_str(), year).await?;
    let source_lines = std::mem::take(&mut source.lines.0);
    let taxes = taxes_per_rate(&source_lines, &source);
    let lines: Vec<InvoiceLine> = source_lines
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

/// The VAT per rate: each line's gross after its discount and its tax at the rate it was taxed
/// at, and shipping's at the order's standard rate; rates ascending.
fn taxes_per_rate(lines: &[crate::store::invoices::SourceLine], source: &Source) -> Vec<TaxAtRate> {
    let mut per_rate: std::collections::BTreeMap<i64, (i64, i64)> = std::collections::BTreeMap::new();
    for line in lines {
        let gross = line.unit_price_minor.saturating_mul(line.quantity) - line.discount_minor;
        let entry = per_rate.entry(line.tax_rate_bp).or_default();
        *entry = (entry.0 + gross, entry.1 + line.tax_minor);
    }
    if source.shipping_minor.minor() > 0 {
        let entry = per_rate.entry(i64::from(source.tax_rate_bp)).or_default();
        *entry = (entry.0 + source.shipping_minor.minor(), entry.1 + source.shipping_tax_minor.minor());
    }
    per_rate
        .into_iter()
        .map(|(rate_bp, (gross, tax))| TaxAtRate {
            rate_bp,
            gross_minor: Amount::new(gross),
            tax_minor: Amount::new(tax),
        })
        .collect()
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
