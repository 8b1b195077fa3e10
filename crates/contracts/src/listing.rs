//! The storefront's listing grammar, shared by the catalog listing (`GET /products`) and search
//! (`GET /search`): the page size, the filters (`category`, `brand`, prices, `attr.<name>`,
//! `in_stock`) with their validation, and the price buckets of the facets. One grammar, so a
//! storefront builds both URLs the same way and both answer a bad parameter alike.

use service_kit::{FieldCode, FieldError, FieldErrors};

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// The lower edges of the price facet's buckets, in minor units; the last is open-ended.
pub const PRICE_BUCKETS: &[i64] = &[0, 1_000, 2_500, 5_000, 10_000];

/// A page size in 1..=100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(i64);

impl PageSize {
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        let Some(raw) = raw else {
            return Ok(Self(DEFAULT_PAGE_SIZE));
        };
        match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(Self(n)),
            _ => Err(FieldError::new(
                "limit",
                FieldCode::OutOfRange,
                format!("limit must be an integer from 1 to {MAX_PAGE_SIZE}"),
            )),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// What narrows a listing (and its facets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// A category slug: the category and all its descendants.
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// `attr.<name>=<value>`, each required (sorted, so the normalized query is stable).
    pub attributes: Vec<(String, String)>,
    pub in_stock: bool,
    pub brand: Option<String>,
}

/// A query string as its pairs, undecoded (tests and tools that build queries by hand).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The value of the last `name` among the query's pairs.
pub fn last<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub fn parse_bool(field: &str, raw: &str) -> Result<bool, FieldError> {
    match raw {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(FieldError::new(field, FieldCode::InvalidValue, format!("{field} must be true or false"))),
    }
}

fn parse_price(field: &str, raw: &str) -> Result<i64, FieldError> {
    raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        FieldError::new(field, FieldCode::OutOfRange, format!("{field} must be a non-negative amount in minor units"))
    })
}

/// Attribute names: lowercase letters, digits and `_`, starting with a letter, at most 40.
pub fn attribute_name_is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A free-text parameter of at most `max` characters; empty counts as absent.
pub fn text(pairs: &[(String, String)], errors: &mut FieldErrors, field: &str, max: usize) -> Option<String> {
    last(pairs, field).filter(|v| !v.is_empty()).and_then(|v| {
        if v.chars().count() > max {
            errors.push(field, FieldCode::InvalidLength, format!("{field} is at most {max} characters"));
            None
        } else {
            Some(v.to_owned())
        }
    })
}

impl Filters {
    /// Reads the filters among the query's pairs; each bad one is added to `errors`.
    pub fn parse(pairs: &[(String, String)], errors: &mut FieldErrors) -> Self {
        let get = |name: &str| last(pairs, name);
        let min_price = get("min_price").and_then(|raw| errors.check(parse_price("min_price", raw)));
        let max_price = get("max_price").and_then(|raw| errors.check(parse_price("max_price", raw)));
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            errors.push("min_price", FieldCode::OutOfRange, "min_price must not be above max_price");
        }
        let in_stock = get("in_stock").and_then(|raw| errors.check(parse_bool("in_stock", raw))).unwrap_or(false);
        let category = text(pairs, errors, "category", 100);
        let brand = text(pairs, errors, "brand", 100);
        let mut attributes = Vec::new();
        for (key, value) in pairs {
            let Some(name) = key.strip_prefix("attr.") else { continue };
            if !attribute_name_is_valid(name) || value.is_empty() || value.chars().count() > 100 {
                errors.push(key.clone(), FieldCode::InvalidValue, "attr.<name> takes an attribute name and a value");
            } else {
                attributes.push((name.to_owned(), value.clone()));
            }
        }
        attributes.sort();
        attributes.dedup();
        Filters { category, min_price, max_price, attributes, in_stock, brand }
    }
}

/// The cursor after a row of a newest-first page keyed by (time, id): `<micros>_<uuid>`.
pub fn time_cursor(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    format!("{}_{id}", at.timestamp_micros())
}

/// The position a [`time_cursor`] names; an invalid cursor is recorded in `errors`.
pub fn parse_time_cursor(
    raw: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)> {
    let raw = raw?;
    let parsed = raw.split_once('_').and_then(|(t, id)| {
        Some((chrono::DateTime::from_timestamp_micros(t.parse().ok()?)?, uuid::Uuid::parse_str(id).ok()?))
    });
    if parsed.is_none() {
        errors.push("cursor", FieldCode::InvalidCursor, "the cursor is not one this API handed out");
    }
    parsed
}
