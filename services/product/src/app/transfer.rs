//! CSV import and export of the catalog. One row per variant with its product's fields; the
//! import is validated row by row (every bad row reported with its line and column), idempotent
//! by SKU (a SKU already this product's is updated, a new one added) and all or nothing (one
//! transaction; any error writes nothing). Each product it touches gets its PRODUCT_CREATED or
//! PRODUCT_UPDATED in that transaction.

use contracts::types::{Amount, Currency, MAX_PRICE, Parsed, ProductStatus, Sku};
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use service_kit::{FieldCode, FieldErrors, Problem};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::catalog;
use crate::domain::{check_attributes, check_sku, check_slug, check_status, check_text};
use crate::error::Result;
use crate::store::transfer::{self as sql, ExportRow};
use crate::store::writes::{self, NewProduct, NewVariant, ProductChanges};

/// The columns of the file, in the order the export writes them.
pub(crate) const COLUMNS: &[&str] = &[
    "product_slug",
    "title",
    "status",
    "brand",
    "categories",
    "description",
    "attributes",
    "sku",
    "options",
    "price_minor",
    "compare_at_minor",
    "weight_grams",
    "barcode",
];

/// Most rows one import takes.
pub(crate) const MAX_ROWS: usize = 5_000;

/// What an import did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct ImportReport {
    pub rows: usize,
    pub created_products: usize,
    pub updated_products: usize,
    pub created_variants: usize,
    pub updated_variants: usize,
}

/// One row, parsed.
struct Row {
    line: u64,
    slug: String,
    title: String,
    status: ProductStatus,
    brand: Option<String>,
    categories: Vec<String>,
    description: String,
    attributes: serde_json::Map<String, serde_json::Value>,
    variant: NewVariant,
}

fn field(line: u64, column: &str) -> String {
    format!("rows[{line}].{column}")
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn json_object(
    errors: &mut FieldErrors,
    line: u64,
    column: &str,
    text: &str,
) -> serde_json::Map<String, serde_json::Value> {
    if text.trim().is_empty() {
        return serde_json::Map::new();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            errors.push(field(line, column), FieldCode::InvalidValue, "a JSON object, e.g. {\"color\": \"black\"}");
            serde_json::Map::new()
        }
    }
}

fn number<T: std::str::FromStr>(
    errors: &mut FieldErrors,
    line: u64,
    column: &str,
    text: &str,
    required: bool,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        if required {
            errors.push(field(line, column), FieldCode::Required, format!("{column} is required"));
        }
        return None;
    }
    match text.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(field(line, column), FieldCode::InvalidValue, format!("{column} is a whole number"));
            None
        }
    }
}

/// The position of each of [`COLUMNS`] in the header, or `None` after recording why there is
/// no usable header.
fn read_header(reader: &mut csv::Reader<&[u8]>, errors: &mut FieldErrors) -> Option<BTreeMap<&'static str, usize>> {
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => {
            errors.push("header", FieldCode::InvalidValue, format!("not a CSV file: {e}"));
            return None;
        }
    };
    let index: BTreeMap<&'static str, usize> =
        COLUMNS.iter().filter_map(|c| header.iter().position(|h| h == c).map(|i| (*c, i))).collect();
    let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| !index.contains_key(c)).collect();
    if !missing.is_empty() {
        errors.push("header", FieldCode::Required, format!("missing columns: {}", missing.join(", ")));
        return None;
    }
    Some(index)
}

/// A row's variant (its SKU, options, prices, weight and barcode), or `None` when its SKU is
/// not one; every problem recorded.
fn read_variant(
    errors: &mut FieldErrors,
    line: u64,
    get: &dyn Fn(&str) -> String,
    currency: Currency,
) -> Option<NewVariant> {
    let sku = check_sku(errors, &field(line, "sku"), get("sku").trim());
    let options = json_object(errors, line, "options", &get("options"));
    if !options.values().all(|v| v.as_str().is_some_and(|s| !s.is_empty() && s.chars().count() <= 100))
        || options.len() > 10
    {
        errors.push(field(line, "options"), FieldCode::InvalidValue, "at most 10 options, each a text value");
    }
    let price_minor = number::<i64>(errors, line, "price_minor", &get("price_minor"), true).unwrap_or(0);
    let compare_at_minor = number::<i64>(errors, line, "compare_at_minor", &get("compare_at_minor"), false);
    let weight_grams = number::<i32>(errors, line, "weight_grams", &get("weight_grams"), false);
    let price_out_of_range = |p: i64| !(0..=MAX_PRICE.minor()).contains(&p);
    if price_out_of_range(price_minor)
        || compare_at_minor.is_some_and(price_out_of_range)
        || weight_grams.is_some_and(|w| w < 0)
    {
        errors.push(
            field(line, "price_minor"),
            FieldCode::OutOfRange,
            "prices are 0 to 10000000000 minor units, weights not negative",
        );
    }
    Some(NewVariant {
        sku: sku?,
        options,
        price_minor: Amount::new(price_minor),
        compare_at_minor: compare_at_minor.map(Amount::new),
        currency,
        weight_grams,
        barcode: optional(&get("barcode")),
        // The CSV has no tax class column: a new variant is `standard`, one that exists keeps
        // its class.
        tax_class: None,
    })
}

/// One row, checked; `None` when it has no SKU or status to keep (its errors are recorded, and
/// the import writes nothing).
fn read_row(errors: &mut FieldErrors, line: u64, get: &dyn Fn(&str) -> String, currency: Currency) -> Option<Row> {
    let slug = get("product_slug").trim().to_owned();
    check_slug(errors, &field(line, "product_slug"), &slug);
    // A product's later rows may leave its fields empty (checked in `group`).
    let title = get("title").trim().to_owned();
    if !title.is_empty() {
        check_text(errors, &field(line, "title"), &title, 200);
    }
    let status = match optional(&get("status")) {
        Some(status) => check_status(errors, &field(line, "status"), Parsed::read(&status)),
        None => Some(ProductStatus::Draft),
    };
    let brand = optional(&get("brand"));
    let categories: Vec<String> =
        get("categories").split('|').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    let description = get("description");
    let attributes = json_object(errors, line, "attributes", &get("attributes"));
    let variant = read_variant(errors, line, get, currency);
    Some(Row { line, slug, title, status: status?, brand, categories, description, attributes, variant: variant? })
}

/// Reads and checks every row (what needs no database), collecting every problem.
fn parse(text: &str, currency: Currency, errors: &mut FieldErrors) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let Some(index) = read_header(&mut reader, errors) else { return Vec::new() };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(field(line, "row"), FieldCode::InvalidValue, format!("unreadable row: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if rows.len() >= MAX_ROWS {
            errors.push(field(line, "row"), FieldCode::OutOfRange, format!("at most {MAX_ROWS} rows per import"));
            break;
        }
        let get = |column: &str| record.get(index[column]).unwrap_or_default().to_owned();
        rows.extend(read_row(errors, line, &get, currency));
    }
    rows
}

/// Rows of one product, in file order; the product's fields are the first row's, and later rows
/// must repeat them or leave them empty.
fn group(rows: Vec<Row>, errors: &mut FieldErrors) -> Vec<Vec<Row>> {
    let mut groups: Vec<Vec<Row>> = Vec::new();
    let mut skus = BTreeSet::new();
    for row in rows {
        if !skus.insert(row.variant.sku.clone()) {
            errors.push(
                field(row.line, "sku"),
                FieldCode::InvalidValue,
                format!("{} appears twice in the file", row.variant.sku),
            );
        }
        match groups.iter_mut().find(|g| g[0].slug == row.slug) {
            Some(group) => {
                let first = &group[0];
                let differs = (!row.title.is_empty() && row.title != first.title)
                    || (row.brand.is_some() && row.brand != first.brand)
                    || (!row.categories.is_empty() && row.categories != first.categories)
                    || (!row.description.is_empty() && row.description != first.description)
                    || (!row.attributes.is_empty() && row.attributes != first.attributes);
                if differs {
                    errors.push(
                        field(row.line, "product_slug"),
                        FieldCode::InvalidValue,
                        format!("the product fields differ from line {} of the same product", first.line),
                    );
                }
                group.push(row);
            }
            None => {
                if row.title.is_empty() {
                    errors.push(field(row.line, "title"), FieldCode::Required, "a product's first row names its title");
                }
                groups.push(vec![row]);
            }
        }
    }
    groups
}

/// Imports `text` (CSV with [`COLUMNS`]) in one transaction, as `actor` (each product created or
/// changed is in the audit log).
#[tracing::instrument(skip_all, fields(bytes = text.len()))]
pub(crate) async fn import(pool: &PgPool, actor: &str, currency: Currency, text: &str) -> Result<ImportReport> {
    let mut errors = FieldErrors::default();
    let rows = parse(text, currency, &mut errors);
    if rows.is_empty() && errors.is_empty() {
        errors.push("rows", FieldCode::Required, "the file has no rows");
    }
    let row_count = rows.len();
    let groups = group(rows, &mut errors);
    errors.finish()?;
    let mut tx = pool.begin().await?;
    let slugs: Vec<String> = groups.iter().map(|g| g[0].slug.clone()).collect();
    let existing: BTreeMap<String, Uuid> = sql::products_by_slug(&mut tx, &slugs).await?.into_iter().collect();
    check_against_the_catalog(&mut tx, pool, &groups).await?;
    let mut report = ImportReport { rows: row_count, ..ImportReport::default() };
    for group in groups {
        match existing.get(&group[0].slug) {
            Some(&product_id) => update_from(&mut tx, actor, product_id, &group, &mut report).await?,
            None => create_from(&mut tx, actor, &group, &mut report).await?,
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// What the database knows that the rows must agree with: a SKU belongs to its row's product
/// (or to none yet), categories exist, attributes have their declared kinds. Every problem at
/// once.
async fn check_against_the_catalog(tx: &mut PgConnection, pool: &PgPool, groups: &[Vec<Row>]) -> Result<()> {
    let mut errors = FieldErrors::default();
    let skus: Vec<Sku> = groups.iter().flatten().map(|r| r.variant.sku.clone()).collect();
    let owners: BTreeMap<Sku, String> = sql::sku_owners(&mut *tx, &skus).await?.into_iter().collect();
    let known_categories: BTreeSet<String> =
        crate::store::categories(pool).await?.into_iter().map(|c| c.slug).collect();
    let names: Vec<String> = groups.iter().flat_map(|g| g[0].attributes.keys().cloned()).collect();
    let mut declared = writes::declared_attributes(&mut *tx, &names).await?;
    for group in groups {
        let first = &group[0];
        for row in group {
            if let Some(owner) = owners.get(&row.variant.sku).filter(|owner| **owner != row.slug) {
                let message = format!("{} belongs to product {owner}", row.variant.sku);
                errors.push(field(row.line, "sku"), FieldCode::InvalidValue, message);
            }
        }
        for category in first.categories.iter().filter(|c| !known_categories.contains(*c)) {
            errors.push(field(first.line, "categories"), FieldCode::InvalidValue, format!("no category {category}"));
        }
        let mut attribute_errors = FieldErrors::default();
        for (name, kind) in check_attributes(&mut attribute_errors, &first.attributes, &declared) {
            declared.insert(name, kind);
        }
        for error in attribute_errors.into_errors() {
            errors.push(field(first.line, &error.field), error.code, error.message);
        }
    }
    Ok(errors.finish()?)
}

/// An existing product from its rows: each variant upserted by SKU, the product's fields from
/// its first row (audited with the product before).
async fn update_from(
    tx: &mut PgConnection,
    actor: &str,
    product_id: Uuid,
    group: &[Row],
    report: &mut ImportReport,
) -> Result<()> {
    let first = &group[0];
    let before = writes::product_snapshot(&mut *tx, product_id).await?;
    for row in group {
        if writes::upsert_variant(&mut *tx, product_id, &row.variant).await? {
            report.updated_variants += 1;
        } else {
            report.created_variants += 1;
        }
    }
    let changes = ProductChanges {
        title: Some(first.title.clone()),
        description: Some((first.description.clone(), markdown::to_safe_html(&first.description))),
        status: Some(first.status),
        brand: Some(first.brand.clone()),
        attributes: Some(first.attributes.clone()),
        categories: Some(first.categories.clone()),
        ..ProductChanges::default()
    };
    catalog::update_product_in(&mut *tx, product_id, &changes).await?;
    catalog::audit_product(&mut *tx, actor, "product.import_update", product_id, before).await?;
    report.updated_products += 1;
    Ok(())
}

/// A new product from its rows (audited).
async fn create_from(tx: &mut PgConnection, actor: &str, group: &[Row], report: &mut ImportReport) -> Result<()> {
    let first = &group[0];
    let product = NewProduct {
        slug: first.slug.clone(),
        title: first.title.clone(),
        description_html: markdown::to_safe_html(&first.description),
        description: first.description.clone(),
        status: first.status,
        brand: first.brand.clone(),
        attributes: first.attributes.clone(),
        images: Vec::new(),
        seo_title: None,
        seo_description: None,
        categories: first.categories.clone(),
        variants: group.iter().map(|r| r.variant.clone()).collect(),
    };
    let product_id = catalog::create_product_in(&mut *tx, &product).await?;
    catalog::audit_product(&mut *tx, actor, "product.import_create", product_id, None).await?;
    report.created_products += 1;
    report.created_variants += group.len();
    Ok(())
}

fn json_cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    }
}

/// The catalog as CSV with [`COLUMNS`] (what [`import`] reads back unchanged).
pub(crate) async fn export(pool: &PgPool) -> Result<Vec<u8>> {
    let rows: Vec<ExportRow> = sql::export(&mut *pool.acquire().await?).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, record: &[String]| {
        writer.write_record(record).map_err(|e| Problem::internal(&e))
    };
    write(&mut writer, &COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>())?;
    for row in rows {
        let record = [
            row.slug,
            row.title,
            row.status.to_string(),
            row.brand.unwrap_or_default(),
            row.categories,
            row.description,
            json_cell(&row.attributes),
            row.sku,
            json_cell(&row.options),
            row.price_minor.to_string(),
            row.compare_at_minor.map(|n| n.to_string()).unwrap_or_default(),
            row.weight_grams.map(|n| n.to_string()).unwrap_or_default(),
            row.barcode.unwrap_or_default(),
        ];
        write(&mut writer, &record)?;
    }
    writer.into_inner().map_err(|e| Problem::internal(&e).into())
}
