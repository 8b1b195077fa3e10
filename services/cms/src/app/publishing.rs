//! Publishing: a draft becomes an immutable version, rendered once (its images resolved by the
//! media service, before any transaction); putting a version live or taking a page down writes
//! the change, its event and the storefront's revalidation in the caller's transaction. The
//! scheduler runs the same steps when a scheduled time comes, reading the time from the
//! configured clock, one page per transaction.

use chrono::{DateTime, Utc};
use events::catalog::{ContentPublished, ContentUnpublished};
use sqlx::PgConnection;

use super::Cms;
use crate::domain::{Draft, RenderedBlock};
use crate::error::Result;
use crate::store::{self, Page};

impl Cms {
    /// Makes a version of `draft` and puts it live at once; its number.
    pub(crate) async fn publish_now(
        &self,
        tx: &mut PgConnection,
        page: &Page,
        draft: &Draft,
        rendered: &[RenderedBlock],
        by: &str,
    ) -> Result<i32> {
        let version = store::insert_version(tx, page.id, draft, rendered, None, by).await?;
        self.go_live(tx, page, version).await?;
        Ok(version)
    }

    /// Puts an existing version live now, with its event and revalidation.
    async fn go_live(&self, tx: &mut PgConnection, page: &Page, version: i32) -> Result<()> {
        store::set_live(tx, page.id, version, self.settings.clock.now()).await?;
        let (paths, tags) = self.targets("page", &page.slug);
        let event =
            ContentPublished { content_id: page.id, kind: "page".into(), key: page.slug.clone(), version, paths, tags };
        announce(tx, &event, self.revalidate()).await?;
        Ok(())
    }

    /// Takes the page down now, with its event and revalidation.
    pub(crate) async fn take_down(&self, tx: &mut PgConnection, page: &Page) -> Result<()> {
        store::take_down(tx, page.id).await?;
        let (paths, tags) = self.targets("page", &page.slug);
        let event =
            ContentUnpublished { content_id: page.id, kind: "page".into(), key: page.slug.clone(), paths, tags };
        announce(tx, &event, self.revalidate()).await?;
        Ok(())
    }

    /// Announces a menu's or snippet's new revision (they are live as soon as they are saved).
    pub(crate) async fn announce_live(
        &self,
        tx: &mut PgConnection,
        kind: &str,
        content_id: uuid::Uuid,
        key: &str,
        revision: i32,
    ) -> Result<()> {
        let (paths, tags) = self.targets(kind, key);
        let event = ContentPublished { content_id, kind: kind.into(), key: key.into(), version: revision, paths, tags };
        announce(tx, &event, self.revalidate()).await?;
        Ok(())
    }

    /// Publishes every scheduled version due at `now` and takes down every page whose time is
    /// up, each page in its own transaction; how many changed. Replicas share the work
    /// (`FOR UPDATE SKIP LOCKED`), so each change happens once.
    #[tracing::instrument(skip_all, fields(now = %now))]
    pub async fn run_schedule(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut changed = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let Some(page) = store::due_publications(&mut tx, now, 1).await?.pop() else { break };
            let version = page.scheduled_version.expect("a due publication has a version (pages_schedule_complete)");
            self.go_live(&mut tx, &page, version).await?;
            tx.commit().await?;
            tracing::info!(slug = %page.slug, version, "scheduled version published");
            changed += 1;
        }
        loop {
            let mut tx = self.pool.begin().await?;
            let Some(page) = store::due_takedowns(&mut tx, now, 1).await?.pop() else { break };
            if page.live_version.is_some() {
                self.take_down(&mut tx, &page).await?;
                tracing::info!(slug = %page.slug, "page taken down as scheduled");
                changed += 1;
            } else {
                // Nothing is live: the take-down time simply lapses.
                store::take_down(&mut tx, page.id).await?;
            }
            tx.commit().await?;
        }
        Ok(changed)
    }
}

/// An event that tells the storefront what to refresh.
pub(crate) trait Announcement: events::Event {
    /// Kind, key, paths and tags.
    fn targets(&self) -> (&str, &str, &[String], &[String]);
}

impl Announcement for ContentPublished {
    fn targets(&self) -> (&str, &str, &[String], &[String]) {
        (&self.kind, &self.key, &self.paths, &self.tags)
    }
}

impl Announcement for ContentUnpublished {
    fn targets(&self) -> (&str, &str, &[String], &[String]) {
        (&self.kind, &self.key, &self.paths, &self.tags)
    }
}

/// Enqueues the event and, when the storefront is to be told, its revalidation (both in `tx`).
async fn announce<E: Announcement>(tx: &mut PgConnection, event: &E, revalidate: bool) -> sqlx::Result<()> {
    let event_id = events::enqueue(&mut *tx, crate::SERVICE, event).await?;
    if revalidate {
        let (kind, key, paths, tags) = event.targets();
        store::queue_revalidation(tx, event_id, kind, key, paths, tags).await?;
    }
    Ok(())
}
