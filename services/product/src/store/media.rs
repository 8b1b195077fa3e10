//! The image URLs kept from the media service's events.

use events::catalog::MediaUploaded;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// Records an uploaded image's URLs (the same event twice changes nothing).
pub(crate) async fn uploaded(tx: &mut PgConnection, media: &MediaUploaded) -> sqlx::Result<()> {
    sqlx::query(
        "insert into media_urls (media_id, url, variants, width, height) values ($1, $2, $3, $4, $5) \
         on conflict (media_id) do update set url = excluded.url, variants = excluded.variants, \
           width = excluded.width, height = excluded.height",
    )
    .bind(media.media_id)
    .bind(&media.url)
    .bind(Json(&media.variants))
    .bind(media.width as i32)
    .bind(media.height as i32)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Forgets a deleted image's URLs (products that still name it show no URL for it).
pub(crate) async fn deleted(tx: &mut PgConnection, media_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from media_urls where media_id = $1").bind(media_id).execute(&mut *tx).await?;
    Ok(())
}
