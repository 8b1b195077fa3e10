//! The stock flags, kept from inventory's STOCK_CHANGED events (never a call per request): a
//! variant's `in_stock` follows the newest event of its SKU (`seq` orders them, so an old event
//! arriving late changes nothing), and its product's flag is whether any variant is in stock.

use sqlx::PgConnection;

/// Applies one STOCK_CHANGED; returns whether it was newer than what the variant knew.
pub(crate) async fn apply_stock_changed(
    tx: &mut PgConnection,
    sku: &str,
    available: bool,
    seq: i64,
) -> sqlx::Result<bool> {
    let newer = sqlx::query(
        "insert into stock_flags (sku, available, seq) values ($1, $2, $3) \
         on conflict (sku) do update set available = excluded.available, seq = excluded.seq \
         where stock_flags.seq < excluded.seq",
    )
    .bind(sku)
    .bind(available)
    .bind(seq)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !newer {
        return Ok(false);
    }
    let product_id: Option<uuid::Uuid> = sqlx::query_scalar(
        "update variants set in_stock = $2, stock_seq = $3 where sku = $1 and stock_seq < $3 returning product_id",
    )
    .bind(sku)
    .bind(available)
    .bind(seq)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(product_id) = product_id else { return Ok(false) };
    sqlx::query(
        "update products p set in_stock = exists (select 1 from variants v where v.product_id = p.id and v.in_stock) \
         where id = $1 and in_stock is distinct from exists (select 1 from variants v where v.product_id = p.id and v.in_stock)",
    )
    .bind(product_id)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}
