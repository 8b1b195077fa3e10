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
        store::announce(tx, &event, self.revalidate()).await?;
        Ok(())
    }

    /// Takes the page down now, with its event and revalidation.
    pub(crate) async fn take_down(&self, tx: &mut PgConnection, page: &Page) -> Result<()> {
        store::take_down(tx, page.id).await?;
        let (paths, tags) = self.targets("page", &page.slug);
        let event =
            ContentUnpublished { content_id: page.id, kind: "page".into(), key: page.slug.clone(), paths, tags };
        store::announce(tx, &event, self.revalidate()).await?;
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
        store::announce(tx, &event, self.revalidate()).await?;
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
