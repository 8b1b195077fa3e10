//! The staff's writes to what is live as soon as it is saved: navigation menus and site-wide
//! snippets, each with its CONTENT_PUBLISHED event, revalidation and audit entry in the
//! transaction that saves it.

use events::audit::AuditRecorded;
use service_kit::FieldErrors;

use super::Cms;
use crate::domain::{self, MenuItem};
use crate::error::Result;
use crate::store::{self, Menu, Snippet};

/// Creates or replaces the menu `name`.
#[tracing::instrument(skip_all, fields(menu = %name))]
pub(crate) async fn put_menu(cms: &Cms, by: &str, name: &str, items: &[MenuItem]) -> Result<Menu> {
    let mut errors = FieldErrors::default();
    domain::check_slug("name", name, 50, &mut errors);
    domain::check_menu(items, &mut errors);
    errors.finish()?;
    let mut tx = cms.pool.begin().await?;
    let before = store::lock_menu(&mut tx, name).await?.map(|m| serde_json::json!(m.items.0));
    let menu = store::put_menu(&mut tx, name, items, by).await?;
    cms.announce_live(&mut tx, "menu", menu.id, &menu.name, menu.revision).await?;
    let entry = AuditRecorded::new(by, "menu.put", format!("menu:{name}"), before, Some(serde_json::json!(items)));
    events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
    tx.commit().await?;
    Ok(menu)
}

/// Creates or replaces the snippet `name` (its Markdown rendered to sanitized HTML once).
#[tracing::instrument(skip_all, fields(snippet = %name))]
pub(crate) async fn put_snippet(cms: &Cms, by: &str, name: &str, markdown: &str, active: bool) -> Result<Snippet> {
    let mut errors = FieldErrors::default();
    domain::check_slug("name", name, 50, &mut errors);
    domain::check_snippet(markdown, &mut errors);
    errors.finish()?;
    let html = markdown::to_safe_html(markdown);
    let mut tx = cms.pool.begin().await?;
    let view = |markdown: &str, active: bool| serde_json::json!({"markdown": markdown, "active": active});
    let before = store::lock_snippet(&mut tx, name).await?.map(|s| view(&s.markdown, s.active));
    let snippet = store::put_snippet(&mut tx, name, markdown, &html, active, by).await?;
    cms.announce_live(&mut tx, "snippet", snippet.id, &snippet.name, snippet.revision).await?;
    let after = Some(view(&snippet.markdown, snippet.active));
    let entry = AuditRecorded::new(by, "snippet.put", format!("snippet:{name}"), before, after);
    events::audit::record(&mut tx, crate::SERVICE, &entry).await?;
    tx.commit().await?;
    Ok(snippet)
}
