//! Issuing invoices: when an order is paid, in the paying transaction, its invoice is built
//! from the order as it stands and stored with the next number of the year's gap-free sequence.
//! A payment event delivered twice issues one invoice.

use chrono::{Datelike, Utc};
use contracts::types::Amount;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::invoices::{Document, InvoiceLine, Seller, TaxAtRate, invoice_number};
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
        number: invoice_number(year, sequence),
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
    store::insert(tx, &Issued { order_id, kind: "invoice", year, sequence, document: &document }).await?;
    Ok(Some(document.number))
}
