//! Pure rules of the catalog: the listing's query (filters, sort, page size, the opaque keyset
//! cursor) and its normalized form, the price buckets of the facets, the category tree, and the
//! validation of what staff write (products, variants, categories, typed attributes).

use contracts::types::{Parsed, ProductStatus, Sku};
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::{FieldCode, FieldError, FieldErrors};
use uuid::Uuid;

pub(crate) use contracts::listing::{Filters, PRICE_BUCKETS, PageSize, attribute_name_is_valid};

/// The orders a listing can be sorted in. Every one breaks ties newest first, then by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Sort {
    Newest,
    /// By the lowest variant price, cheapest first.
    PriceAsc,
    /// By the lowest variant price, dearest first.
    PriceDesc,
    /// By rating average, best first.
    Rating,
    /// By title, case-insensitively, A to Z.
    Name,
}

impl Sort {
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        Ok(match raw {
            None | Some("newest") => Sort::Newest,
            Some("price_asc") => Sort::PriceAsc,
            Some("price_desc") => Sort::PriceDesc,
            Some("rating") => Sort::Rating,
            Some("name") => Sort::Name,
            Some(_) => {
                return Err(FieldError::new(
                    "sort",
                    FieldCode::InvalidValue,
                    "sort must be newest, price_asc, price_desc, rating or name",
                ));
            }
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Rating => "rating",
            Sort::Name => "name",
        }
    }
}

/// The sort key of the last item of a page, besides (created_at, id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum SortKey {
    /// A price in minor units.
    Minor(i64),
    /// A lowercased title, or a rating average as exact decimal text ("4.50").
    Text(String),
}

/// Where the next page starts: after the item with this sort key, created_at and id. It names
/// its sort, so a cursor of another sort is refused rather than misread. Opaque to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "s")]
    pub sort: Sort,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<SortKey>,
    #[serde(rename = "t")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    pub(crate) fn decode(raw: &str, sort: Sort) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "cursor",
                FieldCode::InvalidCursor,
                "the cursor is not one this API handed out for this sort",
            )
        };
        let cursor: Cursor = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(invalid)?;
        let key_fits = matches!(
            (cursor.sort, &cursor.key),
            (Sort::Newest, None)
                | (Sort::PriceAsc | Sort::PriceDesc, Some(SortKey::Minor(_)))
                | (Sort::Rating | Sort::Name, Some(SortKey::Text(_)))
        );
        let rating_is_decimal = match (&cursor.sort, &cursor.key) {
            (Sort::Rating, Some(SortKey::Text(text))) => text.parse::<f64>().is_ok(),
            _ => true,
        };
        if cursor.sort == sort && key_fits && rating_is_decimal { Ok(cursor) } else { Err(invalid()) }
    }
}

/// A listing request, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    pub filters: Filters,
    pub sort: Sort,
    pub limit: PageSize,
    pub cursor: Option<Cursor>,
    pub facets: bool,
}

impl Listing {
    /// Parses the query pairs of `GET /products`; every invalid parameter is reported at once.
    /// Unknown parameters are ignored (they do not change the result, nor the cache key).
    pub(crate) fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let get = |name: &str| contracts::listing::last(pairs, name);
        let sort = errors.check(Sort::parse(get("sort")));
        let limit = errors.check(PageSize::parse(get("limit")));
        let facets =
            get("facets").and_then(|raw| errors.check(contracts::listing::parse_bool("facets", raw))).unwrap_or(false);
        let filters = Filters::parse(pairs, &mut errors);
        let cursor = match (get("cursor"), sort) {
            (Some(raw), Some(sort)) => errors.check(Cursor::decode(raw, sort)),
            _ => None,
        };
        if errors.is_empty() {
            Ok(Listing { filters, sort: sort.expect("checked"), limit: limit.expect("checked"), cursor, facets })
        } else {
            Err(errors.into_errors())
        }
    }

    /// The query in one canonical form: two requests with the same answer have the same key
    /// (parameter order, defaults and unknown parameters do not matter).
    pub(crate) fn normalized(&self) -> String {
        let f = &self.filters;
        let mut out = format!(
            "sort={}&limit={}&facets={}&in_stock={}",
            self.sort.as_str(),
            self.limit.get(),
            self.facets,
            f.in_stock
        );
        for (name, value) in [("category", &f.category), ("brand", &f.brand)] {
            if let Some(value) = value {
                out.push_str(&format!("&{name}={}", escape(value)));
            }
        }
        for (name, value) in [("min_price", f.min_price), ("max_price", f.max_price)] {
            if let Some(value) = value {
                out.push_str(&format!("&{name}={value}"));
            }
        }
        for (name, value) in &f.attributes {
            out.push_str(&format!("&attr.{}={}", escape(name), escape(value)));
        }
        if let Some(cursor) = &self.cursor {
            out.push_str(&format!("&cursor={}", cursor.encode()));
        }
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('%', "%25").replace('&', "%26").replace('=', "%3D")
}

/// A category as stored: the flat rows the tree is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CategoryRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub slug: String,
    pub name: String,
    pub position: i32,
}

/// A node of the category tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct CategoryNode {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

/// The forest of `rows` (roots first), children ordered by position then name.
pub(crate) fn category_tree(rows: &[CategoryRow]) -> Vec<CategoryNode> {
    let mut children: BTreeMap<Option<Uuid>, Vec<&CategoryRow>> = BTreeMap::new();
    for row in rows {
        children.entry(row.parent_id).or_default().push(row);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
    }
    fn build(
        parent: Option<Uuid>,
        children: &BTreeMap<Option<Uuid>, Vec<&CategoryRow>>,
        depth: usize,
    ) -> Vec<CategoryNode> {
        // The database refuses cycles; the depth bound keeps a corrupt row from recursing forever.
        if depth > 64 {
            return Vec::new();
        }
        children
            .get(&parent)
            .map(|rows| {
                rows.iter()
                    .map(|row| CategoryNode {
                        id: row.id,
                        slug: row.slug.clone(),
                        name: row.name.clone(),
                        children: build(Some(row.id), children, depth + 1),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    build(None, &children, 0)
}

/// Slugs: lowercase letters and digits in words joined by single hyphens, at most 120.
pub(crate) fn check_slug(errors: &mut FieldErrors, field: &str, slug: &str) {
    let valid = !slug.is_empty()
        && slug.len() <= 120
        && slug
            .split('-')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !valid {
        errors.push(field, FieldCode::InvalidValue, "a slug is lowercase letters and digits joined by single hyphens");
    }
}

/// A required text of 1..=max characters without control characters.
pub(crate) fn check_text(errors: &mut FieldErrors, field: &str, text: &str, max: usize) {
    let length = text.trim().chars().count();
    if length == 0 || length > max {
        errors.push(field, FieldCode::InvalidLength, format!("{field} is 1 to {max} characters"));
    } else if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.push(field, FieldCode::InvalidCharacters, format!("{field} contains control characters"));
    }
}

/// A SKU (letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64), or
/// its field's error.
pub(crate) fn check_sku(errors: &mut FieldErrors, field: &str, sku: &str) -> Option<Sku> {
    Sku::parse(sku).map_err(|error| errors.push(field, FieldCode::InvalidValue, error.to_string())).ok()
}

/// A product's status.
/// A product status, or the `field`'s error.
pub(crate) fn check_status(
    errors: &mut FieldErrors,
    field: &str,
    status: Parsed<ProductStatus>,
) -> Option<ProductStatus> {
    let status = status.valid();
    if status.is_none() {
        errors.push(field, FieldCode::InvalidValue, "status is draft, active or archived");
    }
    status
}

/// The kind of a typed attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AttributeKind {
    Text,
    Number,
    Boolean,
    /// One of these values.
    Enum(Vec<String>),
}

impl AttributeKind {
    pub(crate) fn parse(kind: &str, choices: Vec<String>) -> Option<Self> {
        Some(match kind {
            "text" => AttributeKind::Text,
            "number" => AttributeKind::Number,
            "boolean" => AttributeKind::Boolean,
            "enum" => AttributeKind::Enum(choices),
            _ => return None,
        })
    }

    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            AttributeKind::Text => "text",
            AttributeKind::Number => "number",
            AttributeKind::Boolean => "boolean",
            AttributeKind::Enum(_) => "enum",
        }
    }

    /// The kind a first value of an undeclared attribute declares (enums are declared only).
    pub(crate) fn of(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::String(_) => Some(AttributeKind::Text),
            serde_json::Value::Number(_) => Some(AttributeKind::Number),
            serde_json::Value::Bool(_) => Some(AttributeKind::Boolean),
            _ => None,
        }
    }

    pub(crate) fn accepts(&self, value: &serde_json::Value) -> bool {
        match (self, value) {
            (AttributeKind::Text, serde_json::Value::String(s)) => !s.is_empty() && s.chars().count() <= 200,
            (AttributeKind::Number, serde_json::Value::Number(_)) => true,
            (AttributeKind::Boolean, serde_json::Value::Bool(_)) => true,
            (AttributeKind::Enum(choices), serde_json::Value::String(s)) => choices.contains(s),
            _ => false,
        }
    }
}

/// Checks a product's attributes against the declared kinds (`declared`: name → kind); an
/// undeclared attribute is declared by its first value's JSON type (returned, to be recorded).
pub(crate) fn check_attributes(
    errors: &mut FieldErrors,
    attributes: &serde_json::Map<String, serde_json::Value>,
    declared: &BTreeMap<String, AttributeKind>,
) -> Vec<(String, AttributeKind)> {
    let mut new = Vec::new();
    if attributes.len() > 50 {
        errors.push("attributes", FieldCode::OutOfRange, "at most 50 attributes");
    }
    for (name, value) in attributes {
        let field = format!("attributes.{name}");
        if !attribute_name_is_valid(name) {
            errors.push(field, FieldCode::InvalidValue, "attribute names are lowercase letters, digits and '_'");
            continue;
        }
        match declared.get(name) {
            Some(kind) if kind.accepts(value) => {}
            Some(kind) => {
                let expected = match kind {
                    AttributeKind::Enum(choices) => format!("one of {}", choices.join(", ")),
                    other => format!("a {}", other.as_str()),
                };
                errors.push(field, FieldCode::InvalidValue, format!("{name} takes {expected}"));
            }
            None => match AttributeKind::of(value).filter(|kind| kind.accepts(value)) {
                Some(kind) => new.push((name.clone(), kind)),
                None => errors.push(field, FieldCode::InvalidValue, "an attribute is a text, a number or a boolean"),
            },
        }
    }
    new
}

/// The orders reviews are listed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReviewSort {
    Newest,
    /// Most helpful votes first, then newest.
    Helpful,
}

/// Where the next page of reviews starts. Opaque to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReviewCursor {
    #[serde(rename = "s")]
    pub sort: ReviewSort,
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub helpful: Option<i32>,
    #[serde(rename = "t")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl ReviewCursor {
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    pub(crate) fn decode(raw: &str, sort: ReviewSort) -> Result<Self, FieldError> {
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ReviewCursor>(&bytes).ok())
            .filter(|c| c.sort == sort && (c.helpful.is_some() == (sort == ReviewSort::Helpful)))
            .ok_or_else(|| {
                FieldError::new(
                    "cursor",
                    FieldCode::InvalidCursor,
                    "the cursor is not one this API handed out for this sort",
                )
            })
    }
}

/// A review listing request: sort, page size, cursor.
pub(crate) fn review_listing(
    pairs: &[(String, String)],
) -> Result<(ReviewSort, PageSize, Option<ReviewCursor>), Vec<FieldError>> {
    let mut errors = FieldErrors::default();
    let get = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let sort = match get("sort") {
        None | Some("newest") => Some(ReviewSort::Newest),
        Some("helpful") => Some(ReviewSort::Helpful),
        Some(_) => {
            errors.push("sort", FieldCode::InvalidValue, "sort is newest or helpful");
            None
        }
    };
    let limit = errors.check(PageSize::parse(get("limit")));
    let cursor = match (get("cursor"), sort) {
        (Some(raw), Some(sort)) => errors.check(ReviewCursor::decode(raw, sort)),
        _ => None,
    };
    match (sort, limit) {
        (Some(sort), Some(limit)) if errors.is_empty() => Ok((sort, limit, cursor)),
        _ => Err(errors.into_errors()),
    }
}

/// A review's fields as a shopper writes them.
pub(crate) fn check_review(errors: &mut FieldErrors, rating: i64, title: &str, body: &str) {
    if !(1..=5).contains(&rating) {
        errors.push("rating", FieldCode::OutOfRange, "a rating is 1 to 5");
    }
    check_text(errors, "title", title, 120);
    check_text(errors, "body", body, 5_000);
}

#[cfg(test)]
mod tests {
    use super::*;

    use contracts::listing::query_pairs as pairs;

    #[test]
    fn page_sizes_outside_one_to_a_hundred_are_rejected() {
        assert_eq!(PageSize::parse(None).unwrap().get(), contracts::listing::DEFAULT_PAGE_SIZE);
        assert_eq!(PageSize::parse(Some("100")).unwrap().get(), 100);
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(PageSize::parse(Some(bad)).unwrap_err().field, "limit", "{bad}");
        }
    }

    #[test]
    fn a_cursor_round_trips_only_under_its_own_sort() {
        let cursor = Cursor {
            sort: Sort::PriceAsc,
            key: Some(SortKey::Minor(1999)),
            created_at: Utc::now(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode(), Sort::PriceAsc).unwrap(), cursor);
        assert_eq!(Cursor::decode(&cursor.encode(), Sort::Newest).unwrap_err().code.as_str(), "invalid_cursor");
        assert_eq!(Cursor::decode("!!!", Sort::Newest).unwrap_err().field, "cursor");
        let forged = Cursor { sort: Sort::Rating, key: Some(SortKey::Text("1; drop".into())), ..cursor };
        assert!(Cursor::decode(&forged.encode(), Sort::Rating).is_err(), "a rating key must be a decimal");
    }

    #[test]
    fn every_bad_parameter_is_named_together() {
        let errors = Listing::parse(&pairs("limit=500&sort=cheap&min_price=-1&in_stock=maybe&attr.Bad=x")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sort", "limit", "min_price", "in_stock", "attr.Bad"]);
        let errors = Listing::parse(&pairs("min_price=500&max_price=100")).unwrap_err();
        assert_eq!(errors[0].field, "min_price");
    }

    #[test]
    fn the_normalized_query_ignores_order_defaults_and_unknown_parameters() {
        let a = Listing::parse(&pairs("attr.size=m&attr.color=black&category=hoodies&utm=x")).unwrap();
        let b = Listing::parse(&pairs("category=hoodies&attr.color=black&limit=20&sort=newest&attr.size=m")).unwrap();
        assert_eq!(a.normalized(), b.normalized());
        let c = Listing::parse(&pairs("category=hoodies&attr.color=white&attr.size=m")).unwrap();
        assert_ne!(a.normalized(), c.normalized());
        let tricky = Listing::parse(&pairs("brand=a%26in_stock%3Dtrue")).unwrap();
        assert_ne!(tricky.normalized(), Listing::parse(&pairs("brand=a&in_stock=true")).unwrap().normalized());
    }

    #[test]
    fn the_tree_nests_children_under_parents_in_order() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let row = |id, parent, slug: &str, position| CategoryRow {
            id,
            parent_id: parent,
            slug: slug.into(),
            name: slug.into(),
            position,
        };
        let tree = category_tree(&[row(c, Some(a), "c", 0), row(b, None, "b", 1), row(a, None, "a", 0)]);
        assert_eq!(tree.len(), 2);
        assert_eq!((tree[0].slug.as_str(), tree[1].slug.as_str()), ("a", "b"));
        assert_eq!(tree[0].children[0].slug, "c");
    }

    #[test]
    fn attributes_keep_their_declared_kind_and_new_ones_declare_theirs() {
        let declared: BTreeMap<String, AttributeKind> = [
            ("color".to_owned(), AttributeKind::Enum(vec!["black".into(), "white".into()])),
            ("organic".to_owned(), AttributeKind::Boolean),
        ]
        .into();
        let attrs = serde_json::json!({"color": "pink", "organic": "yes", "gsm": 180, "fit": "slim"});
        let mut errors = FieldErrors::default();
        let new = check_attributes(&mut errors, attrs.as_object().unwrap(), &declared);
        let problem = errors.finish().unwrap_err();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["attributes.color", "attributes.organic"]);
        assert_eq!(new, [("fit".to_owned(), AttributeKind::Text), ("gsm".to_owned(), AttributeKind::Number)]);
    }

    #[test]
    fn review_listings_take_a_sort_and_its_own_cursors_only() {
        let pairs = |q: &[(&str, &str)]| q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        let cursor =
            ReviewCursor { sort: ReviewSort::Helpful, helpful: Some(3), created_at: Utc::now(), id: Uuid::now_v7() };
        let (sort, _, parsed) = review_listing(&pairs(&[("sort", "helpful"), ("cursor", &cursor.encode())])).unwrap();
        assert_eq!((sort, parsed), (ReviewSort::Helpful, Some(cursor.clone())));
        let errors = review_listing(&pairs(&[("cursor", &cursor.encode())])).unwrap_err();
        assert_eq!(errors[0].field, "cursor", "a helpful cursor is not a newest one");
        let errors = review_listing(&pairs(&[("sort", "best"), ("limit", "0")])).unwrap_err();
        assert_eq!(errors.len(), 2);
        let mut errors = FieldErrors::default();
        check_review(&mut errors, 6, "", "ok");
        assert_eq!(errors.into_errors().len(), 2);
    }

    #[test]
    fn slugs_and_skus_are_checked() {
        let mut errors = FieldErrors::default();
        check_slug(&mut errors, "slug", "good-slug-2");
        check_sku(&mut errors, "sku", "TS-BLK.M_1");
        assert!(errors.is_empty());
        for bad in ["Bad", "double--hyphen", "-edge", ""] {
            let mut errors = FieldErrors::default();
            check_slug(&mut errors, "slug", bad);
            assert!(!errors.is_empty(), "{bad}");
        }
        let mut errors = FieldErrors::default();
        check_sku(&mut errors, "sku", "-x");
        check_sku(&mut errors, "sku", "a b");
        assert_eq!(errors.finish().unwrap_err().errors().len(), 2);
    }
}
