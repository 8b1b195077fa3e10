//! Staff writes to the catalog (permission `catalog:write`, checked by the gateway's route table
//! and again here): products, variants, categories. Each answers with the resource as it now is.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::types::{Amount, Currency, MAX_PRICE, Parsed, ProductStatus};
use internal_token::Caller;
use serde::{Deserialize, Deserializer};
use service_kit::problem_schema::ProblemSchema;
use service_kit::{FieldCode, FieldErrors, Json, Permission};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, CategoryPage, category_page};
use crate::app::{catalog, transfer};
use crate::domain::{check_sku, check_slug, check_status, check_text};
use crate::error::{ApiError, Result};
use crate::store::writes::{CategoryChanges, NewCategory, NewProduct, NewVariant, ProductChanges, VariantChanges};
use crate::store::{self, ProductDetail};

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A variant as staff write it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VariantBody {
    sku: String,
    /// Option values such as `{"size": "M"}` (text, at most 10).
    #[serde(default)]
    #[schema(value_type = Object)]
    options: JsonMap,
    /// Gross price in minor units.
    price_minor: Amount,
    compare_at_minor: Option<Amount>,
    /// The shop's currency (default); any other is refused.
    currency: Option<String>,
    weight_grams: Option<i32>,
    barcode: Option<String>,
    /// The VAT class (`standard` when left out; `reduced`, `zero` or another class the shop
    /// keeps rates for).
    tax_class: Option<String>,
}

/// A product as staff create it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProductBody {
    slug: String,
    title: String,
    /// Markdown; rendered to sanitized HTML.
    #[serde(default)]
    description: String,
    /// `draft` when left out.
    #[schema(value_type = Option<ProductStatus>)]
    status: Option<Parsed<ProductStatus>>,
    brand: Option<String>,
    /// Typed attributes: a declared attribute takes its kind's values; a new one is declared by
    /// its first value (text, number or boolean).
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: JsonMap,
    /// Media ids, in display order.
    #[serde(default)]
    images: Vec<Uuid>,
    seo_title: Option<String>,
    seo_description: Option<String>,
    /// Category slugs.
    #[serde(default)]
    categories: Vec<String>,
    /// One or more.
    variants: Vec<VariantBody>,
}

/// The product fields to change (absent: unchanged; `null` clears an optional one).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ProductPatch {
    slug: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[schema(value_type = Option<ProductStatus>)]
    status: Option<Parsed<ProductStatus>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    brand: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    attributes: Option<JsonMap>,
    images: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    seo_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    seo_description: Option<Option<String>>,
    /// Replaces the categories (slugs).
    categories: Option<Vec<String>>,
}

/// The variant fields to change.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct VariantPatch {
    #[schema(value_type = Option<Object>)]
    options: Option<JsonMap>,
    price_minor: Option<Amount>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Amount>)]
    compare_at_minor: Option<Option<Amount>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    weight_grams: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    barcode: Option<Option<String>>,
    tax_class: Option<String>,
}

/// A tax class is 1 to 32 lower-case letters, digits or `_`, a letter first.
fn check_tax_class(errors: &mut FieldErrors, field: String, class: Option<&str>) {
    let Some(class) = class else { return };
    let valid = (1..=32).contains(&class.len())
        && class.as_bytes()[0].is_ascii_lowercase()
        && class.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        errors.push(field, FieldCode::InvalidValue, "a tax class: lower-case letters, digits or _, a letter first");
    }
}

/// A category as staff create it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CategoryBody {
    slug: String,
    name: String,
    #[serde(default)]
    description: String,
    /// The parent's slug; a root when absent.
    parent: Option<String>,
    /// Order among its siblings (default 0, then by name).
    #[serde(default)]
    position: i32,
}

/// The category fields to change; `"parent": null` makes it a root.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct CategoryPatch {
    slug: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    parent: Option<Option<String>>,
    position: Option<i32>,
}

fn check_optional_text(errors: &mut FieldErrors, field: &str, text: Option<&str>, max: usize) {
    if let Some(text) = text {
        check_text(errors, field, text, max);
    }
}

fn check_description(errors: &mut FieldErrors, description: &str) {
    if description.chars().count() > 20_000 {
        errors.push("description", FieldCode::InvalidLength, "description is at most 20000 characters");
    }
}

fn check_options(errors: &mut FieldErrors, field: &str, options: &JsonMap) {
    let valid = options.len() <= 10
        && options.iter().all(|(name, value)| {
            (1..=40).contains(&name.chars().count())
                && value.as_str().is_some_and(|v| (1..=100).contains(&v.chars().count()))
        });
    if !valid {
        errors.push(field, FieldCode::InvalidValue, "at most 10 options, each a name and a text value");
    }
}

fn check_prices(errors: &mut FieldErrors, prefix: &str, price: Option<Amount>, compare_at: Option<Amount>) {
    let out_of_range = |p: Amount| !(Amount::ZERO..=MAX_PRICE).contains(&p);
    for (name, value) in [("price_minor", price), ("compare_at_minor", compare_at)] {
        if value.is_some_and(out_of_range) {
            errors.push(format!("{prefix}{name}"), FieldCode::OutOfRange, "a price is 0 to 10000000000 minor units");
        }
    }
}

fn check_lists(errors: &mut FieldErrors, images: Option<&[Uuid]>, categories: Option<&[String]>) {
    if images.is_some_and(|i| i.len() > 20) {
        errors.push("images", FieldCode::OutOfRange, "at most 20 images");
    }
    if categories.is_some_and(|c| c.len() > 20) {
        errors.push("categories", FieldCode::OutOfRange, "at most 20 categories");
    }
}

/// The variant `body` describes (`None` when its SKU is not one), its errors recorded.
fn new_variant(errors: &mut FieldErrors, prefix: &str, body: VariantBody, currency: Currency) -> Option<NewVariant> {
    let sku = check_sku(errors, &format!("{prefix}sku"), &body.sku);
    check_options(errors, &format!("{prefix}options"), &body.options);
    check_prices(errors, prefix, Some(body.price_minor), body.compare_at_minor);
    if body.weight_grams.is_some_and(|w| w < 0) {
        errors.push(format!("{prefix}weight_grams"), FieldCode::OutOfRange, "a weight is not negative");
    }
    check_optional_text(errors, &format!("{prefix}barcode"), body.barcode.as_deref(), 64);
    check_tax_class(errors, format!("{prefix}tax_class"), body.tax_class.as_deref());
    if body.currency.as_deref().is_some_and(|c| currency != c) {
        errors.push(
            format!("{prefix}currency"),
            FieldCode::InvalidCurrency,
            format!("this shop sells in {currency} only"),
        );
    }
    Some(NewVariant {
        sku: sku?,
        options: body.options,
        price_minor: body.price_minor,
        compare_at_minor: body.compare_at_minor,
        currency,
        weight_grams: body.weight_grams,
        barcode: body.barcode,
        tax_class: body.tax_class,
    })
}

fn staff_only(caller: &Caller) -> Result<()> {
    Ok(caller.require_perm(Permission::CatalogWrite)?)
}

async fn detail(state: &AppState, id: Uuid) -> Result<ProductDetail> {
    store::find(&state.pool, Some(id), "", true).await?.ok_or(ApiError::ProductNotFound)
}

fn product_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::ProductNotFound)
}

/// `POST /products`.
#[utoipa::path(post, path = "/products", tag = "catalog", summary = "Create a product with its variants",
    request_body = ProductBody,
    responses(
        (status = 201, description = "The product as created.", body = ProductDetail),
        (status = 409, description = "`slug_taken` or `sku_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named (unknown categories, attribute kinds, another currency, ...).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProductBody>,
) -> Result<Response> {
    staff_only(&caller)?;
    let mut errors = FieldErrors::default();
    check_slug(&mut errors, "slug", &body.slug);
    check_text(&mut errors, "title", &body.title, 200);
    check_description(&mut errors, &body.description);
    let status = match body.status {
        Some(status) => check_status(&mut errors, "status", status),
        None => Some(ProductStatus::Draft),
    };
    check_optional_text(&mut errors, "brand", body.brand.as_deref(), 100);
    check_optional_text(&mut errors, "seo_title", body.seo_title.as_deref(), 200);
    check_optional_text(&mut errors, "seo_description", body.seo_description.as_deref(), 500);
    check_lists(&mut errors, Some(&body.images), Some(&body.categories));
    if body.variants.is_empty() || body.variants.len() > 100 {
        errors.push("variants", FieldCode::OutOfRange, "a product has 1 to 100 variants");
    }
    let variants: Vec<Option<NewVariant>> = body
        .variants
        .into_iter()
        .enumerate()
        .map(|(i, v)| new_variant(&mut errors, &format!("variants[{i}]."), v, state.currency))
        .collect();
    for (i, variant) in variants.iter().enumerate() {
        let Some(variant) = variant else { continue };
        if variants[..i].iter().flatten().any(|other| other.sku == variant.sku) {
            errors.push(format!("variants[{i}].sku"), FieldCode::InvalidValue, "each variant has its own SKU");
        }
    }
    let (status, variants) = errors.finish_with(status.zip(variants.into_iter().collect::<Option<Vec<_>>>()))?;
    let product = NewProduct {
        slug: body.slug,
        title: body.title.trim().to_owned(),
        description_html: markdown::to_safe_html(&body.description),
        description: body.description,
        status,
        brand: body.brand,
        attributes: body.attributes,
        images: body.images,
        seo_title: body.seo_title,
        seo_description: body.seo_description,
        categories: body.categories,
        variants,
    };
    let id = catalog::create_product(&state.pool, &caller.subject().sub, &product).await?;
    state.cache.invalidate().await;
    Ok((StatusCode::CREATED, Json(detail(&state, id).await?)).into_response())
}

/// `PATCH /products/{id}`.
#[utoipa::path(patch, path = "/products/{id}", tag = "catalog", summary = "Change a product",
    params(("id" = Uuid, Path, description = "The product's id.")),
    request_body = ProductPatch,
    responses(
        (status = 200, description = "The product as changed.", body = ProductDetail),
        (status = 404, description = "`not_found`: no such product.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ProductPatch>,
) -> Result<Json<ProductDetail>> {
    staff_only(&caller)?;
    let id = product_id(&id)?;
    let mut errors = FieldErrors::default();
    if let Some(slug) = &body.slug {
        check_slug(&mut errors, "slug", slug);
    }
    check_optional_text(&mut errors, "title", body.title.as_deref(), 200);
    if let Some(description) = &body.description {
        check_description(&mut errors, description);
    }
    let status = body.status.map(|status| check_status(&mut errors, "status", status));
    check_optional_text(&mut errors, "brand", body.brand.clone().flatten().as_deref(), 100);
    check_optional_text(&mut errors, "seo_title", body.seo_title.clone().flatten().as_deref(), 200);
    check_optional_text(&mut errors, "seo_description", body.seo_description.clone().flatten().as_deref(), 500);
    check_lists(&mut errors, body.images.as_deref(), body.categories.as_deref());
    errors.finish()?;
    let changes = ProductChanges {
        slug: body.slug,
        title: body.title.map(|t| t.trim().to_owned()),
        description: body.description.map(|d| (markdown::to_safe_html(&d), d)).map(|(html, d)| (d, html)),
        status: status.flatten(),
        brand: body.brand,
        attributes: body.attributes,
        images: body.images,
        seo_title: body.seo_title,
        seo_description: body.seo_description,
        categories: body.categories,
    };
    catalog::update_product(&state.pool, &caller.subject().sub, id, &changes).await?;
    state.cache.invalidate().await;
    Ok(Json(detail(&state, id).await?))
}

/// `DELETE /products/{id}`: archives.
#[utoipa::path(delete, path = "/products/{id}", tag = "catalog", summary = "Archive a product",
    description = "The product leaves the storefront; orders keep their snapshots. Archiving twice is a no-op.",
    params(("id" = Uuid, Path, description = "The product's id.")),
    responses(
        (status = 204, description = "Archived."),
        (status = 404, description = "`not_found`: no such product.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn archive_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    staff_only(&caller)?;
    catalog::archive_product(&state.pool, &caller.subject().sub, product_id(&id)?).await?;
    state.cache.invalidate().await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /products/{id}/variants`.
#[utoipa::path(post, path = "/products/{id}/variants", tag = "catalog", summary = "Add a variant to a product",
    params(("id" = Uuid, Path, description = "The product's id.")),
    request_body = VariantBody,
    responses(
        (status = 201, description = "The product with the new variant.", body = ProductDetail),
        (status = 404, description = "`not_found`: no such product.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`sku_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn add_variant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<VariantBody>,
) -> Result<Response> {
    staff_only(&caller)?;
    let id = product_id(&id)?;
    let mut errors = FieldErrors::default();
    let variant = new_variant(&mut errors, "", body, state.currency);
    let variant = errors.finish_with(variant)?;
    catalog::add_variant(&state.pool, &caller.subject().sub, id, &variant).await?;
    state.cache.invalidate().await;
    Ok((StatusCode::CREATED, Json(detail(&state, id).await?)).into_response())
}

/// `PATCH /products/{id}/variants/{sku}`.
#[utoipa::path(patch, path = "/products/{id}/variants/{sku}", tag = "catalog", summary = "Change a variant",
    params(("id" = Uuid, Path, description = "The product's id."), ("sku" = String, Path, description = "The variant's SKU.")),
    request_body = VariantPatch,
    responses(
        (status = 200, description = "The product as changed.", body = ProductDetail),
        (status = 404, description = "`not_found`: no such product, or it has no variant with this SKU.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_variant(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sku)): Path<(String, String)>,
    Json(body): Json<VariantPatch>,
) -> Result<Json<ProductDetail>> {
    staff_only(&caller)?;
    let id = product_id(&id)?;
    let mut errors = FieldErrors::default();
    if let Some(options) = &body.options {
        check_options(&mut errors, "options", options);
    }
    check_prices(&mut errors, "", body.price_minor, body.compare_at_minor.flatten());
    if body.weight_grams.flatten().is_some_and(|w| w < 0) {
        errors.push("weight_grams", FieldCode::OutOfRange, "a weight is not negative");
    }
    check_optional_text(&mut errors, "barcode", body.barcode.clone().flatten().as_deref(), 64);
    check_tax_class(&mut errors, "tax_class".to_owned(), body.tax_class.as_deref());
    errors.finish()?;
    let changes = VariantChanges {
        options: body.options,
        price_minor: body.price_minor,
        compare_at_minor: body.compare_at_minor,
        weight_grams: body.weight_grams,
        barcode: body.barcode,
        tax_class: body.tax_class,
    };
    catalog::update_variant(&state.pool, &caller.subject().sub, id, &sku, &changes).await?;
    state.cache.invalidate().await;
    Ok(Json(detail(&state, id).await?))
}

/// `POST /categories`.
#[utoipa::path(post, path = "/categories", tag = "catalog", summary = "Create a category",
    request_body = CategoryBody,
    responses(
        (status = 201, description = "The category.", body = CategoryPage),
        (status = 409, description = "`slug_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named (an unknown parent included).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_category(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CategoryBody>,
) -> Result<Response> {
    staff_only(&caller)?;
    let mut errors = FieldErrors::default();
    check_slug(&mut errors, "slug", &body.slug);
    check_text(&mut errors, "name", &body.name, 100);
    if body.description.chars().count() > 5_000 {
        errors.push("description", FieldCode::InvalidLength, "description is at most 5000 characters");
    }
    errors.finish()?;
    let category = NewCategory {
        slug: body.slug,
        name: body.name.trim().to_owned(),
        description: body.description,
        parent: body.parent,
        position: body.position,
    };
    catalog::create_category(&state.pool, &caller.subject().sub, &category).await?;
    state.cache.invalidate().await;
    Ok((StatusCode::CREATED, Json(category_page(&state.pool, &category.slug).await?)).into_response())
}

/// `PATCH /categories/{slug}`.
#[utoipa::path(patch, path = "/categories/{slug}", tag = "catalog", summary = "Rename, move or reorder a category",
    params(("slug" = String, Path, description = "The category's slug.")),
    request_body = CategoryPatch,
    responses(
        (status = 200, description = "The category as changed.", body = CategoryPage),
        (status = 404, description = "`not_found`: no such category.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each invalid field named (a move under its own subtree included).", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_category(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    Json(body): Json<CategoryPatch>,
) -> Result<Json<CategoryPage>> {
    staff_only(&caller)?;
    let mut errors = FieldErrors::default();
    if let Some(slug) = &body.slug {
        check_slug(&mut errors, "slug", slug);
    }
    check_optional_text(&mut errors, "name", body.name.as_deref(), 100);
    errors.finish()?;
    let new_slug = body.slug.clone().unwrap_or_else(|| slug.clone());
    let changes = CategoryChanges {
        slug: body.slug,
        name: body.name.map(|n| n.trim().to_owned()),
        description: body.description,
        parent: body.parent,
        position: body.position,
    };
    catalog::update_category(&state.pool, &caller.subject().sub, &slug, &changes).await?;
    state.cache.invalidate().await;
    Ok(Json(category_page(&state.pool, &new_slug).await?))
}

/// `GET /products/export`.
#[utoipa::path(get, path = "/products/export", tag = "catalog", summary = "The catalog as CSV",
    description = "One row per variant with its product's fields (columns: product_slug, title, status, brand, categories (slugs joined by `|`), description, attributes (JSON), sku, options (JSON), price_minor, compare_at_minor, weight_grams, barcode); what the import reads back.",
    responses((status = 200, description = "The CSV file.", content_type = "text/csv", body = String)))]
pub(super) async fn export_products(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    staff_only(&caller)?;
    let body = transfer::export(&state.pool).await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"catalog.csv\""),
        (axum::http::header::CACHE_CONTROL, "private, no-store"),
    ];
    Ok((headers, body).into_response())
}

/// The largest CSV file the import takes.
pub(super) const IMPORT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// `POST /products/import`.
#[utoipa::path(post, path = "/products/import", tag = "catalog", summary = "Import products and variants from CSV",
    description = "The export's columns. Idempotent by SKU: a SKU of the row's product is updated, a new SKU added (a new product slug creates the product; its fields come from its first row). All or nothing: any invalid row (each reported as `rows[<line>].<column>`) writes nothing. Variants not in the file are left as they are.",
    request_body(content = String, content_type = "text/csv", description = "The CSV file (UTF-8, header row first, at most 5000 rows)."),
    responses(
        (status = 200, description = "What was created and updated.", body = transfer::ImportReport),
        (status = 400, description = "`unreadable_body`: not UTF-8.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: send `Content-Type: text/csv`.", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: every bad row named by line and column.", body = ProblemSchema, content_type = "application/problem+json"),
    ))]
pub(super) async fn import_products(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<transfer::ImportReport>> {
    staff_only(&caller)?;
    let is_csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")));
    if !is_csv {
        return Err(
            service_kit::Problem::new(service_kit::Code::UnsupportedMediaType, "send the file as text/csv").into()
        );
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| service_kit::Problem::new(service_kit::Code::UnreadableBody, "the file is not UTF-8"))?;
    let report = transfer::import(&state.pool, &caller.subject().sub, state.currency, text).await?;
    state.cache.invalidate().await;
    Ok(Json(report))
}
