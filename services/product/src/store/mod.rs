//! All of the catalog's SQL (schema `catalog`): the storefront's reads here (listing, facets,
//! detail, categories), each one statement; staff writes and their events in `writes`; the
//! stock flags from inventory's events in `stock`; the demo seed's inserts in `seed`; what the
//! search service reads in `search`.

pub(crate) mod media;
pub(crate) mod reviews;
pub(crate) mod search;
pub(crate) mod seed;
pub(crate) mod stock;
pub(crate) mod transfer;
pub(crate) mod writes;

use chrono::{DateTime, Utc};
use contracts::types::{Amount, Currency, ProductStatus, Sku};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{CategoryRow, Cursor, Filters, Listing, PRICE_BUCKETS, Sort, SortKey};

/// A product in a listing.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct ListItem {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub brand: Option<String>,
    /// The lowest and highest price over the variants (gross, minor units).
    pub price_min_minor: Amount,
    pub price_max_minor: Amount,
    pub currency: Currency,
    /// Whether any variant can be bought now.
    pub in_stock: bool,
    /// The first image's media id.
    pub image: Option<Uuid>,
    /// The first image's `medium` variant URL, once the media service announced it.
    pub image_url: Option<String>,
    pub rating_average: f64,
    pub rating_count: i32,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub name_key: String,
    #[serde(skip)]
    pub rating_key: String,
}

impl ListItem {
    /// The cursor that continues after this item under `sort`.
    pub(crate) fn cursor(&self, sort: Sort) -> Cursor {
        let key = match sort {
            Sort::Newest => None,
            Sort::PriceAsc | Sort::PriceDesc => Some(SortKey::Minor(self.price_min_minor.minor())),
            Sort::Rating => Some(SortKey::Text(self.rating_key.clone())),
            Sort::Name => Some(SortKey::Text(self.name_key.clone())),
        };
        Cursor { sort, key, created_at: self.created_at, id: self.id }
    }
}

/// Active products matching `filters`: the `where` of the listing and of its facets alike.
fn push_filters(query: &mut QueryBuilder<Postgres>, filters: &Filters) {
    query.push(" where p.status = 'active'");
    if let Some(category) = &filters.category {
        query.push(
            " and exists (select 1 from product_categories pc where pc.product_id = p.id and pc.category_id in \
             (with recursive sub as (select id from categories where slug = ",
        );
        query.push_bind(category.clone());
        query.push(" union all select c.id from categories c join sub on c.parent_id = sub.id) select id from sub))");
    }
    if let Some(min) = filters.min_price {
        query.push(" and p.price_max_minor >= ").push_bind(min);
    }
    if let Some(max) = filters.max_price {
        query.push(" and p.price_min_minor <= ").push_bind(max);
    }
    for (name, value) in &filters.attributes {
        query.push(" and p.attributes ->> ").push_bind(name.clone()).push(" = ").push_bind(value.clone());
    }
    if filters.in_stock {
        query.push(" and p.in_stock");
    }
    if let Some(brand) = &filters.brand {
        query.push(" and lower(p.brand) = lower(").push_bind(brand.clone()).push(")");
    }
}

const LIST_COLUMNS: &str = "p.id, p.slug, p.title, p.brand, p.price_min_minor, p.price_max_minor, p.currency, \
     p.in_stock, (p.images ->> 0)::uuid as image, \
     (select coalesce(m.variants ->> 'medium', m.url) from media_urls m where m.media_id = (p.images ->> 0)::uuid) as image_url, \
     p.rating_avg::float8 as rating_average, p.rating_count, \
     p.created_at, lower(p.title) as name_key, p.rating_avg::text as rating_key";

/// One page of the listing plus one more row (to tell whether a next page exists): one
/// statement, served by the sort's keyset index.
#[tracing::instrument(skip_all, fields(sort = listing.sort.as_str(), limit = listing.limit.get()))]
pub(crate) async fn list(pool: &PgPool, listing: &Listing) -> sqlx::Result<Vec<ListItem>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("select {LIST_COLUMNS} from products p"));
    push_filters(&mut query, &listing.filters);
    // (sort expression, ascending?) before the shared tie-break, created_at desc, id desc.
    let (expression, ascending) = match listing.sort {
        Sort::Newest => ("", false),
        Sort::PriceAsc => ("p.price_min_minor", true),
        Sort::PriceDesc => ("p.price_min_minor", false),
        Sort::Rating => ("p.rating_avg", false),
        Sort::Name => ("lower(p.title)", true),
    };
    if let Some(cursor) = &listing.cursor {
        query.push(" and (");
        if let Some(key) = &cursor.key {
            let bind_key = |query: &mut QueryBuilder<Postgres>| match key {
                SortKey::Minor(n) => {
                    query.push_bind(*n);
                }
                SortKey::Text(text) if listing.sort == Sort::Rating => {
                    query.push_bind(text.clone()).push("::numeric");
                }
                SortKey::Text(text) => {
                    query.push_bind(text.clone());
                }
            };
            query.push(expression).push(if ascending { " > " } else { " < " });
            bind_key(&mut query);
            query.push(" or (").push(expression).push(" = ");
            bind_key(&mut query);
            query.push(" and ");
        }
        query.push("(p.created_at, p.id) < (").push_bind(cursor.created_at).push(", ").push_bind(cursor.id).push(")");
        query.push(if cursor.key.is_some() { "))" } else { ")" });
    }
    query.push(" order by ");
    if !expression.is_empty() {
        query.push(expression).push(if ascending { " asc, " } else { " desc, " });
    }
    query.push("p.created_at desc, p.id desc limit ").push_bind(listing.limit.get() + 1);
    query.build_query_as::<ListItem>().fetch_all(pool).await
}

/// The facets of the products matching `filters`, in one statement: the direct children of the
/// filtered category (the roots when unfiltered) each counted over its whole subtree, the price
/// buckets (by a product's lowest price), every attribute's values, and in/out of stock.
#[tracing::instrument(skip_all)]
pub(crate) async fn facets(pool: &PgPool, filters: &Filters) -> sqlx::Result<serde_json::Value> {
    let mut query = QueryBuilder::<Postgres>::new(
        "with recursive f as (select p.id, p.price_min_minor, p.attributes, p.in_stock from products p",
    );
    push_filters(&mut query, filters);
    query.push(
        "), kids as (select c.id, c.slug, c.name, c.position from categories c where c.parent_id is not distinct from ",
    );
    match &filters.category {
        Some(slug) => query.push("(select id from categories where slug = ").push_bind(slug.clone()).push(")"),
        None => query.push("null"),
    };
    query.push(
        "), tree (root, id) as (select id, id from kids \
           union all select tree.root, c.id from categories c join tree on c.parent_id = tree.id), \
         counted as (select k.slug, k.name, k.position, count(distinct f.id) as n from kids k \
           join tree on tree.root = k.id \
           left join product_categories pc on pc.category_id = tree.id \
           left join f on f.id = pc.product_id \
           group by k.id, k.slug, k.name, k.position), \
         buckets as (select lo, lead(lo) over (order by lo) as hi from unnest(",
    );
    query.push_bind(PRICE_BUCKETS.to_vec());
    query.push(
        "::int8[]) as b(lo)) \
         select json_build_object( \
           'categories', coalesce((select json_agg(json_build_object('slug', slug, 'name', name, 'count', n) \
               order by position, name) from counted), '[]'::json), \
           'price', (select json_agg(json_build_object('min', b.lo, 'max', b.hi, 'count', \
               (select count(*) from f where f.price_min_minor >= b.lo and (b.hi is null or f.price_min_minor < b.hi))) \
               order by b.lo) from buckets b), \
           'attributes', coalesce((select json_object_agg(name, vals) from \
               (select name, json_agg(json_build_object('value', value, 'count', n) order by n desc, value) as vals \
                from (select e.key as name, e.value, count(*) as n from f, jsonb_each_text(f.attributes) e \
                      group by e.key, e.value) per_value group by name) per_name), '{}'::json), \
           'in_stock', json_build_object('true', (select count(*) from f where f.in_stock), \
                                         'false', (select count(*) from f where not f.in_stock)))",
    );
    let (facets,): (serde_json::Value,) = query.build_query_as().fetch_one(pool).await?;
    Ok(facets)
}

/// A variant as the detail shows it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct Variant {
    pub sku: Sku,
    /// Option values such as `{"size": "M", "color": "black"}`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub price_minor: Amount,
    /// The "was" price shown struck through, if any.
    pub compare_at_minor: Option<Amount>,
    pub currency: Currency,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    /// What VAT class it is taxed at (`standard`, `reduced`, `zero`, …).
    pub tax_class: String,
    pub in_stock: bool,
}

/// A category a product is in.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct CategoryRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// A product with everything a product page shows.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct ProductDetail {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    /// Markdown, as written.
    pub description: String,
    /// The description rendered to sanitized HTML.
    pub description_html: String,
    pub status: ProductStatus,
    pub brand: Option<String>,
    /// Typed attributes (text, number, boolean, enum values) by name.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// Media ids, in display order.
    #[schema(value_type = Vec<Uuid>)]
    pub images: sqlx::types::Json<Vec<Uuid>>,
    /// The images' URLs in the same order, each `{"media_id", "url", "variants": {"thumb", ...},
    /// "width", "height"}`, for those the media service has announced.
    #[schema(value_type = Vec<Object>)]
    pub image_urls: sqlx::types::Json<serde_json::Value>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub price_min_minor: Amount,
    pub price_max_minor: Amount,
    pub currency: Currency,
    pub in_stock: bool,
    #[schema(value_type = Vec<Variant>)]
    pub variants: sqlx::types::Json<Vec<Variant>>,
    #[schema(value_type = Vec<CategoryRef>)]
    pub categories: sqlx::types::Json<Vec<CategoryRef>>,
    pub rating_average: f64,
    pub rating_count: i32,
    /// Grows with every change; events carry it.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const DETAIL_COLUMNS: &str = "p.id, p.slug, p.title, p.description, p.description_html, p.status, p.brand, \
     p.attributes, p.images, p.seo_title, p.seo_description, p.price_min_minor, p.price_max_minor, p.currency, \
     p.in_stock, p.rating_avg::float8 as rating_average, p.rating_count, p.version, p.created_at, p.updated_at, \
     coalesce((select json_agg(json_build_object('media_id', m.media_id, 'url', m.url, 'variants', m.variants, \
        'width', m.width, 'height', m.height) order by i.position) \
        from jsonb_array_elements_text(p.images) with ordinality as i(id, position) \
        join media_urls m on m.media_id = i.id::uuid), '[]'::json) as image_urls, \
     coalesce((select json_agg(json_build_object('sku', v.sku, 'options', v.options, 'price_minor', v.price_minor, \
        'compare_at_minor', v.compare_at_minor, 'currency', v.currency, 'weight_grams', v.weight_grams, \
        'barcode', v.barcode, 'tax_class', v.tax_class, 'in_stock', v.in_stock) order by v.position, v.created_at, v.sku) \
        from variants v where v.product_id = p.id), '[]'::json) as variants, \
     coalesce((select json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name) order by c.name) \
        from product_categories pc join categories c on c.id = pc.category_id where pc.product_id = p.id), \
        '[]'::json) as categories";

/// A product by id or slug with its variants and categories, in one statement; drafts and
/// archived products only when `any_status` (staff).
#[tracing::instrument(skip_all)]
pub(crate) async fn find(
    pool: &PgPool,
    id: Option<Uuid>,
    slug: &str,
    any_status: bool,
) -> sqlx::Result<Option<ProductDetail>> {
    let sql = format!(
        "select {DETAIL_COLUMNS} from products p \
         where (p.status = 'active' or $3) and (p.id = $1 or p.slug = $2)"
    );
    sqlx::query_as::<_, ProductDetail>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(slug)
        .bind(any_status)
        .fetch_optional(pool)
        .await
}

/// Every category, flat (the tree is built in the domain).
pub(crate) async fn categories(pool: &PgPool) -> sqlx::Result<Vec<CategoryRow>> {
    let rows: Vec<(Uuid, Option<Uuid>, String, String, i32)> =
        sqlx::query_as("select id, parent_id, slug, name, position from categories").fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(id, parent_id, slug, name, position)| CategoryRow { id, parent_id, slug, name, position })
        .collect())
}

/// A category with its path from the root (breadcrumbs, the category itself last).
pub(crate) async fn category_path(pool: &PgPool, slug: &str) -> sqlx::Result<Vec<CategoryRow>> {
    let rows: Vec<(Uuid, Option<Uuid>, String, String, i32)> = sqlx::query_as(
        "with recursive up as ( \
           select id, parent_id, slug, name, position, 0 as depth from categories where slug = $1 \
           union all select c.id, c.parent_id, c.slug, c.name, c.position, up.depth + 1 \
           from categories c join up on c.id = up.parent_id where up.depth < 64) \
         select id, parent_id, slug, name, position from up order by depth desc",
    )
    .bind(slug)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, parent_id, slug, name, position)| CategoryRow { id, parent_id, slug, name, position })
        .collect())
}

#[derive(sqlx::FromRow)]
struct VariantRow {
    sku: Sku,
    product_id: Uuid,
    slug: String,
    title: String,
    price_minor: Amount,
    currency: Currency,
    in_stock: bool,
    purchasable: bool,
    weight_grams: Option<i32>,
    tax_class: String,
}

/// Variants by SKU with what a cart or an order line needs (one statement).
pub(crate) async fn variants_by_sku(pool: &PgPool, skus: &[Sku]) -> sqlx::Result<Vec<contracts::product::VariantInfo>> {
    let rows: Vec<VariantRow> = sqlx::query_as(
        "select v.sku, p.id as product_id, p.slug, \
           p.title || coalesce(' (' || (select string_agg(value, ', ' order by key) from jsonb_each_text(v.options)) || ')', '') as title, \
           v.price_minor, v.currency::text as currency, v.in_stock, p.status = 'active' as purchasable, v.weight_grams, v.tax_class \
         from variants v join products p on p.id = v.product_id where v.sku = any($1)",
    )
    .bind(skus)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| contracts::product::VariantInfo {
            sku: r.sku,
            product_id: r.product_id.into(),
            slug: r.slug,
            title: r.title,
            price_minor: r.price_minor,
            currency: r.currency,
            in_stock: r.in_stock,
            purchasable: r.purchasable,
            weight_grams: r.weight_grams,
            tax_class: r.tax_class,
        })
        .collect())
}
