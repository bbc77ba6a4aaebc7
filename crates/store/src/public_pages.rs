//! The public pages' storage (item キ): articles, public events, the figures a
//! municipality enters, and the facts the system's own figures are counted
//! from (when flags and facilities were present, home-death dates). A trait
//! of its own (a supertrait of [`crate::StoreTx`]), as [`crate::PublicMapTx`].
//! Times are bound in UTC (SQLite compares them as text).

use crate::StoreError;
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ArticleRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub title: String,
    pub body: String,
    pub published: bool,
    pub published_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub updated_by: Uuid,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublicEventRow {
    pub id: Uuid,
    pub municipality_id: Uuid,
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: Option<OffsetDateTime>,
    pub place: String,
    pub description: Option<String>,
    pub cancelled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub updated_by: Uuid,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublicFigureRow {
    pub municipality_id: Uuid,
    pub metric: String,
    pub fiscal_year: i32,
    pub value: i64,
    pub note: Option<String>,
    pub entered_by: Uuid,
    pub entered_at: OffsetDateTime,
}

/// A status flag's span: from its start (算定開始) or, without one, from
/// when it was recorded, until it ended.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FlagSpanRow {
    pub facility_id: Uuid,
    pub since: Option<Date>,
    pub recorded_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
}

/// A facility's span in the registry: recorded, and closed (if it was).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FacilitySpanRow {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
}

#[async_trait]
pub trait PublicPagesTx: Send {
    async fn insert_article(&mut self, a: &ArticleRow) -> Result<(), StoreError>;
    /// Title, body, published (and first publication), updated.
    async fn update_article(&mut self, a: &ArticleRow) -> Result<(), StoreError>;
    async fn article(&mut self, municipality_id: Uuid, id: Uuid) -> Result<Option<ArticleRow>, StoreError>;
    /// Newest first (by first publication, drafts by creation); only the
    /// published ones unless `with_drafts`.
    async fn articles(
        &mut self,
        municipality_id: Uuid,
        with_drafts: bool,
        limit: i64,
    ) -> Result<Vec<ArticleRow>, StoreError>;

    async fn insert_public_event(&mut self, e: &PublicEventRow) -> Result<(), StoreError>;
    /// Everything but the id, municipality and creation.
    async fn update_public_event(&mut self, e: &PublicEventRow) -> Result<(), StoreError>;
    async fn public_event(&mut self, municipality_id: Uuid, id: Uuid) -> Result<Option<PublicEventRow>, StoreError>;
    /// Events ending (or, without an end, starting) at or after `from`, soonest first.
    async fn public_events_from(
        &mut self,
        municipality_id: Uuid,
        from: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<PublicEventRow>, StoreError>;
    /// Events that started before `before`, latest first.
    async fn public_events_before(
        &mut self,
        municipality_id: Uuid,
        before: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<PublicEventRow>, StoreError>;

    /// Inserts or replaces the figure of (municipality, metric, year).
    async fn upsert_public_figure(&mut self, f: &PublicFigureRow) -> Result<(), StoreError>;
    async fn delete_public_figure(
        &mut self,
        municipality_id: Uuid,
        metric: &str,
        fiscal_year: i32,
    ) -> Result<bool, StoreError>;
    async fn public_figures(&mut self, municipality_id: Uuid) -> Result<Vec<PublicFigureRow>, StoreError>;

    /// The spans of the flags starting with `prefix` on the municipality's facilities.
    async fn flag_spans(&mut self, municipality_id: Uuid, prefix: &str) -> Result<Vec<FlagSpanRow>, StoreError>;
    /// The spans of the municipality's facilities of a kind.
    async fn facility_spans(&mut self, municipality_id: Uuid, kind: &str) -> Result<Vec<FacilitySpanRow>, StoreError>;
    /// When the municipality's first patient was recorded, if one was.
    async fn first_patient_at(&mut self, municipality_id: Uuid) -> Result<Option<OffsetDateTime>, StoreError>;
    /// The dates of the municipality's patients' outcomes of this kind.
    async fn outcome_dates(&mut self, municipality_id: Uuid, outcome: &str) -> Result<Vec<Date>, StoreError>;
}

/// Stamps out [`PublicPagesTx`] for a backend (see `sql.rs`): the same text on both.
macro_rules! impl_public_pages_tx {
    ($tx:ident) => {
        #[async_trait::async_trait]
        impl $crate::public_pages::PublicPagesTx for $tx {
            async fn insert_article(&mut self, a: &$crate::ArticleRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO public_articles (id, municipality_id, title, body, published, published_at, \
                     created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(a.id).bind(a.municipality_id).bind(&a.title).bind(&a.body).bind(a.published)
                .bind(a.published_at.map($crate::public_pages::utc)).bind($crate::public_pages::utc(a.created_at)).bind($crate::public_pages::utc(a.updated_at)).bind(a.updated_by)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn update_article(&mut self, a: &$crate::ArticleRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE public_articles SET title = $3, body = $4, published = $5, published_at = $6, \
                     updated_at = $7, updated_by = $8 WHERE id = $1 AND municipality_id = $2",
                )
                .bind(a.id).bind(a.municipality_id).bind(&a.title).bind(&a.body).bind(a.published)
                .bind(a.published_at.map($crate::public_pages::utc)).bind($crate::public_pages::utc(a.updated_at)).bind(a.updated_by)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn article(&mut self, municipality_id: uuid::Uuid, id: uuid::Uuid) -> Result<Option<$crate::ArticleRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM public_articles WHERE id = $1 AND municipality_id = $2")
                    .bind(id).bind(municipality_id).fetch_optional(self.conn()).await?)
            }

            async fn articles(&mut self, municipality_id: uuid::Uuid, with_drafts: bool, limit: i64) -> Result<Vec<$crate::ArticleRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT * FROM public_articles WHERE municipality_id = $1 AND (published OR $2) \
                     ORDER BY COALESCE(published_at, created_at) DESC, id DESC LIMIT $3",
                )
                .bind(municipality_id).bind(with_drafts).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn insert_public_event(&mut self, e: &$crate::PublicEventRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO public_events (id, municipality_id, title, starts_at, ends_at, place, description, \
                     cancelled_at, created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(e.id).bind(e.municipality_id).bind(&e.title).bind($crate::public_pages::utc(e.starts_at)).bind(e.ends_at.map($crate::public_pages::utc))
                .bind(&e.place).bind(&e.description).bind(e.cancelled_at.map($crate::public_pages::utc)).bind($crate::public_pages::utc(e.created_at))
                .bind($crate::public_pages::utc(e.updated_at)).bind(e.updated_by)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn update_public_event(&mut self, e: &$crate::PublicEventRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE public_events SET title = $3, starts_at = $4, ends_at = $5, place = $6, description = $7, \
                     cancelled_at = $8, updated_at = $9, updated_by = $10 WHERE id = $1 AND municipality_id = $2",
                )
                .bind(e.id).bind(e.municipality_id).bind(&e.title).bind($crate::public_pages::utc(e.starts_at)).bind(e.ends_at.map($crate::public_pages::utc))
                .bind(&e.place).bind(&e.description).bind(e.cancelled_at.map($crate::public_pages::utc)).bind($crate::public_pages::utc(e.updated_at))
                .bind(e.updated_by)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn public_event(&mut self, municipality_id: uuid::Uuid, id: uuid::Uuid) -> Result<Option<$crate::PublicEventRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM public_events WHERE id = $1 AND municipality_id = $2")
                    .bind(id).bind(municipality_id).fetch_optional(self.conn()).await?)
            }

            async fn public_events_from(&mut self, municipality_id: uuid::Uuid, from: time::OffsetDateTime, limit: i64) -> Result<Vec<$crate::PublicEventRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT * FROM public_events WHERE municipality_id = $1 AND COALESCE(ends_at, starts_at) >= $2 \
                     ORDER BY starts_at, id LIMIT $3",
                )
                .bind(municipality_id).bind($crate::public_pages::utc(from)).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn public_events_before(&mut self, municipality_id: uuid::Uuid, before: time::OffsetDateTime, limit: i64) -> Result<Vec<$crate::PublicEventRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT * FROM public_events WHERE municipality_id = $1 AND starts_at < $2 \
                     ORDER BY starts_at DESC, id DESC LIMIT $3",
                )
                .bind(municipality_id).bind($crate::public_pages::utc(before)).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn upsert_public_figure(&mut self, f: &$crate::PublicFigureRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO public_figures (municipality_id, metric, fiscal_year, value, note, entered_by, entered_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (municipality_id, metric, fiscal_year) \
                     DO UPDATE SET value = excluded.value, note = excluded.note, entered_by = excluded.entered_by, \
                     entered_at = excluded.entered_at",
                )
                .bind(f.municipality_id).bind(&f.metric).bind(f.fiscal_year).bind(f.value).bind(&f.note)
                .bind(f.entered_by).bind($crate::public_pages::utc(f.entered_at))
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn delete_public_figure(&mut self, municipality_id: uuid::Uuid, metric: &str, fiscal_year: i32) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM public_figures WHERE municipality_id = $1 AND metric = $2 AND fiscal_year = $3")
                    .bind(municipality_id).bind(metric).bind(fiscal_year).execute(self.conn()).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn public_figures(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::PublicFigureRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM public_figures WHERE municipality_id = $1 ORDER BY fiscal_year DESC, metric")
                    .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn flag_spans(&mut self, municipality_id: uuid::Uuid, prefix: &str) -> Result<Vec<$crate::FlagSpanRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT g.facility_id, g.since, g.recorded_at, g.ended_at FROM facility_flags g \
                     JOIN facilities f ON f.id = g.facility_id WHERE f.municipality_id = $1 AND g.flag LIKE $2 ESCAPE '\\'",
                )
                .bind(municipality_id).bind($crate::like_prefix(prefix)).fetch_all(self.conn()).await?)
            }

            async fn facility_spans(&mut self, municipality_id: uuid::Uuid, kind: &str) -> Result<Vec<$crate::FacilitySpanRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT id, created_at, closed_at FROM facilities WHERE municipality_id = $1 AND kind = $2")
                    .bind(municipality_id).bind(kind).fetch_all(self.conn()).await?)
            }

            async fn first_patient_at(&mut self, municipality_id: uuid::Uuid) -> Result<Option<time::OffsetDateTime>, $crate::StoreError> {
                // The oldest by creation (an index range on the municipality's patients would need its own index).
                Ok(sqlx::query_scalar("SELECT created_at FROM patients WHERE municipality_id = $1 ORDER BY created_at LIMIT 1")
                    .bind(municipality_id).fetch_optional(self.conn()).await?)
            }

            async fn outcome_dates(&mut self, municipality_id: uuid::Uuid, outcome: &str) -> Result<Vec<time::Date>, $crate::StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT outcome_date FROM patients WHERE municipality_id = $1 AND outcome = $2 AND outcome_date IS NOT NULL",
                )
                .bind(municipality_id).bind(outcome).fetch_all(self.conn()).await?)
            }
        }
    };
}
pub(crate) use impl_public_pages_tx;

/// Times are stored in UTC: SQLite compares them as text.
pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}
