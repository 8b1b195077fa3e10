//! Invoices as documents: what one says (seller, buyer, lines with their tax, totals, the tax
//! per rate), built once when the order is paid and stored whole, and its PDF, rendered from
//! that stored document (base-14 Helvetica in WinAnsi, so any viewer shows it and `pdftotext`
//! reads it back). No I/O here.

use chrono::{DateTime, Utc};
use contracts::types::{Amount, Currency, Money};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use serde::{Deserialize, Serialize};

/// Who sells (configuration: `ORDER_SELLER_*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub name: String,
    pub address: Vec<String>,
    pub vat_id: String,
}

/// One line as invoiced: gross amounts, its share of the discount and the VAT it contains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price_minor: Amount,
    pub discount_minor: Amount,
    pub tax_minor: Amount,
}

/// The VAT at one rate: the gross amount taxed at it and the tax it contains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxAtRate {
    pub rate_bp: i64,
    pub gross_minor: Amount,
    pub tax_minor: Amount,
}

/// What a document is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Invoice,
    /// Money given back against an invoice (`refers_to`).
    CreditNote,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit_note",
        }
    }
}

/// An invoice or credit note as issued: everything it says, kept unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    #[serde(default)]
    pub kind: Kind,
    pub number: String,
    /// A credit note's invoice.
    #[serde(default)]
    pub refers_to: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub order_number: String,
    pub seller: Seller,
    /// The billing address's lines.
    pub bill_to: Vec<String>,
    pub buyer_vat_id: Option<String>,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub subtotal_minor: Amount,
    pub discount_minor: Amount,
    /// Gross; the VAT it contains is in `taxes`, with the lines'.
    pub shipping_minor: Amount,
    pub total_minor: Amount,
    pub taxes: Vec<TaxAtRate>,
}

/// The number of `sequence` in `year`: `INV-2026-000123`, a credit note `CN-2026-000123`.
pub fn invoice_number(kind: Kind, year: i32, sequence: i32) -> String {
    let prefix = match kind {
        Kind::Invoice => "INV",
        Kind::CreditNote => "CN",
    };
    format!("{prefix}-{year}-{sequence:06}")
}

/// Text in WinAnsi (Windows-1252), what the base-14 fonts show; a character it lacks is `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '–' => 0x96,
            '—' => 0x97,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            c if (c as u32) < 0x80 && !c.is_control() => c as u8,
            c if (0xA0..=0xFF).contains(&(c as u32)) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// One line of text at (`x`, `y`) in `size` points.
fn text(content: &mut Content, font: Name<'_>, size: f32, x: f32, y: f32, line: &str) {
    content.begin_text();
    content.set_font(font, size);
    content.next_line(x, y);
    content.show(Str(&win_ansi(line)));
    content.end_text();
}

impl Document {
    fn money(&self, amount: Amount) -> String {
        Money::new(amount, self.currency).to_string()
    }

    /// What the invoice says, line by line (left column, right column), top to bottom.
    fn rows(&self) -> Vec<(String, String)> {
        let heading = match (self.kind, &self.refers_to) {
            (Kind::CreditNote, Some(invoice)) => format!("Credit note {} for invoice {invoice}", self.number),
            (Kind::CreditNote, None) => format!("Credit note {}", self.number),
            (Kind::Invoice, _) => format!("Invoice {}", self.number),
        };
        let mut rows = vec![(heading, String::new())];
        rows.push((format!("Date: {}", self.issued_at.format("%Y-%m-%d")), format!("Order {}", self.order_number)));
        rows.push((String::new(), String::new()));
        rows.push(("Seller".into(), "Bill to".into()));
        let seller = std::iter::once(self.seller.name.clone())
            .chain(self.seller.address.iter().cloned())
            .chain(std::iter::once(format!("VAT ID {}", self.seller.vat_id)));
        let buyer = self.bill_to.iter().cloned().chain(self.buyer_vat_id.iter().map(|id| format!("VAT ID {id}")));
        let (seller, buyer): (Vec<String>, Vec<String>) = (seller.collect(), buyer.collect());
        for i in 0..seller.len().max(buyer.len()) {
            rows.push((seller.get(i).cloned().unwrap_or_default(), buyer.get(i).cloned().unwrap_or_default()));
        }
        rows.push((String::new(), String::new()));
        for line in &self.lines {
            let amount =
                line.unit_price_minor.times(contracts::types::Quantity::new(line.quantity).unwrap_or_default());
            let amount = amount.map(|a| self.money(a)).unwrap_or_default();
            rows.push((format!("{} x {} ({})", line.quantity, line.title, line.sku), amount));
            if line.discount_minor.minor() != 0 {
                rows.push(("    discount".into(), format!("-{}", self.money(line.discount_minor))));
            }
        }
        rows.push((String::new(), String::new()));
        if self.kind == Kind::Invoice {
            rows.push(("Subtotal".into(), self.money(self.subtotal_minor)));
            if self.discount_minor.minor() != 0 {
                rows.push(("Discount".into(), format!("-{}", self.money(self.discount_minor))));
            }
            rows.push(("Shipping".into(), self.money(self.shipping_minor)));
            rows.push(("Total".into(), self.money(self.total_minor)));
        } else {
            rows.push(("Credited".into(), self.money(self.total_minor)));
        }
        for tax in &self.taxes {
            let rate = format!("{}.{:02} %", tax.rate_bp / 100, tax.rate_bp % 100);
            rows.push((format!("VAT {rate} included in {}", self.money(tax.gross_minor)), self.money(tax.tax_minor)));
        }
        rows
    }

    /// The invoice as a PDF: A4 pages of its rows.
    pub fn pdf(&self) -> Vec<u8> {
        const ROWS_PER_PAGE: usize = 48;
        let rows = self.rows();
        let pages: Vec<&[(String, String)]> = rows.chunks(ROWS_PER_PAGE).collect();
        let mut pdf = Pdf::new();
        let (catalog, tree, font) = (Ref::new(1), Ref::new(2), Ref::new(3));
        let page_refs: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(4 + 2 * i as i32)).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids(page_refs.iter().copied()).count(pages.len() as i32);
        let name = Name(b"F1");
        pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
        for (i, chunk) in pages.iter().enumerate() {
            let (page_ref, content_ref) = (page_refs[i], Ref::new(5 + 2 * i as i32));
            let mut page = pdf.page(page_ref);
            page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
            page.parent(tree);
            page.contents(content_ref);
            page.resources().fonts().pair(name, font);
            page.finish();
            let mut content = Content::new();
            for (row, (left, right)) in chunk.iter().enumerate() {
                let y = 790.0 - 15.0 * row as f32;
                let size = if i == 0 && row == 0 { 16.0 } else { 10.0 };
                text(&mut content, name, size, 56.0, y, left);
                if !right.is_empty() {
                    text(&mut content, name, size, 380.0, y, right);
                }
            }
            pdf.stream(content_ref, &content.finish());
        }
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Document {
        Document {
            kind: Kind::Invoice,
            number: invoice_number(Kind::Invoice, 2026, 123),
            refers_to: None,
            issued_at: "2026-12-08T10:00:00Z".parse().unwrap(),
            order_number: "SF-000042".into(),
            seller: Seller { name: "Shop GmbH".into(), address: vec!["Straße 1".into()], vat_id: "DE1".into() },
            bill_to: vec!["Ada Lovelace".into(), "10115 Berlin".into(), "DE".into()],
            buyer_vat_id: Some("DE123456789".into()),
            currency: Currency::EUR,
            lines: vec![InvoiceLine {
                sku: "MUG-1".into(),
                title: "Mug (450 ml)".into(),
                quantity: 2,
                unit_price_minor: Amount::new(1190),
                discount_minor: Amount::new(100),
                tax_minor: Amount::new(364),
            }],
            subtotal_minor: Amount::new(2380),
            discount_minor: Amount::new(100),
            shipping_minor: Amount::new(490),
            total_minor: Amount::new(2770),
            taxes: vec![TaxAtRate { rate_bp: 1900, gross_minor: Amount::new(2280), tax_minor: Amount::new(364) }],
        }
    }

    #[test]
    fn a_long_invoice_runs_over_pages_and_keeps_every_line() {
        let many = Document {
            lines: (0..120)
                .map(|i| InvoiceLine {
                    sku: format!("SKU-{i}"),
                    title: format!("Thing {i}"),
                    ..document().lines[0].clone()
                })
                .collect(),
            ..document()
        };
        let rows = many.rows();
        assert!(rows.iter().any(|(l, _)| l.starts_with("1 x Thing 119") || l.starts_with("2 x Thing 119")));
        let pdf = many.pdf();
        let pages = rows.len().div_ceil(48);
        assert!(pages >= 5, "{} rows", rows.len());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains(&format!("/Count {pages}")), "a page tree of {pages} pages");
    }

    #[test]
    fn an_invoice_says_who_what_and_how_much_with_the_tax_per_rate() {
        let rows = document().rows();
        let text: Vec<String> = rows.iter().map(|(l, r)| format!("{l} | {r}")).collect();
        assert_eq!(text[0], "Invoice INV-2026-000123 | ");
        assert!(text.contains(&"2 x Mug (450 ml) (MUG-1) | 23.80 EUR".to_owned()), "{text:#?}");
        assert!(text.contains(&"Total | 27.70 EUR".to_owned()));
        assert!(text.contains(&"VAT 19.00 % included in 22.80 EUR | 3.64 EUR".to_owned()));
        assert!(
            text.contains(&"Shop GmbH | Ada Lovelace".to_owned())
                && text.contains(&"Straße 1 | 10115 Berlin".to_owned())
        );
        let pdf = document().pdf();
        assert!(pdf.starts_with(b"%PDF-") && pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"), "a PDF");
        assert_eq!(win_ansi("Straße €"), b"Stra\xdfe \x80");
        assert_eq!(win_ansi("日本"), b"??");
        let credit = Document {
            kind: Kind::CreditNote,
            number: invoice_number(Kind::CreditNote, 2026, 7),
            refers_to: Some("INV-2026-000123".into()),
            ..document()
        };
        let rows = credit.rows();
        assert_eq!(rows[0].0, "Credit note CN-2026-000007 for invoice INV-2026-000123");
        assert!(rows.iter().any(|(l, r)| l == "Credited" && r == "27.70 EUR"), "{rows:?}");
    }
}
