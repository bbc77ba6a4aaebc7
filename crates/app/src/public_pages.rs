//! The public pages (item キ): what a citizen reads without signing in — the
//! programme's figures, the municipality's articles and its public events —
//! and the use cases with which the municipality writes them. The public
//! reads carry no session and no audit event (public data; the figures about
//! people are aggregates with small counts withheld by the domain); every
//! write is access-checked once and audited in its transaction.

use crate::municipalities::enforce;
use crate::public_map::FlagFilter;
use crate::public_map::PublicMunicipality;
use crate::session::Session;
use crate::{App, AppError, RequestMeta, audit_record};
use serde_json::json;
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::MunicipalityId;
use tsunagu_domain::patient::Outcome;
use tsunagu_domain::policy;
use tsunagu_domain::public_pages::{
    ArticleDraft, EnteredFigure, Figure, FigureMetric, FiscalYear, OwnCount, Presence, PublicEventDraft, choose_figure,
    count_in_year, count_present_on,
};
use tsunagu_store::{ArticleRow, PublicEventRow, PublicFigureRow, StoreTx};
use uuid::Uuid;

/// How many past fiscal years the figures table shows.
pub const FIGURE_YEARS: i32 = 10;
/// Articles on the public home page.
const HOME_ARTICLES: i64 = 5;
const LIST_LIMIT: i64 = 100;

/// The period a line of the figures table covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Facilities today; home deaths so far this fiscal year.
    Now(Date, FiscalYear),
    /// Facilities on the year's first day (April 1st); home deaths over the year.
    Year(FiscalYear),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FigureLine {
    pub period: Period,
    /// In [`FigureMetric::ALL`] order.
    pub cells: Vec<Option<Figure>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub metrics: Vec<FigureMetric>,
    /// The present first, then past years, latest first.
    pub lines: Vec<FigureLine>,
    /// What the municipality entered, with its notes (the sources).
    pub entered: Vec<EnteredFigureView>,
}

impl Figures {
    /// Nothing to show at all.
    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.cells.iter().all(Option::is_none))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnteredFigureView {
    pub metric: FigureMetric,
    pub year: FiscalYear,
    pub value: i64,
    pub note: Option<String>,
    pub entered_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArticleView {
    pub id: Uuid,
    pub title: String,
    /// Markdown as written; the web layer renders and sanitises it.
    pub body: String,
    pub published: bool,
    pub published_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublicEventView {
    pub id: Uuid,
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: Option<OffsetDateTime>,
    pub place: String,
    /// Markdown, as an article's body.
    pub description: Option<String>,
    pub cancelled: bool,
}

/// The municipality's public home page.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicHome {
    pub municipality: PublicMunicipality,
    pub figures: Figures,
    pub articles: Vec<ArticleView>,
    pub upcoming: Vec<PublicEventView>,
}

/// The public events page: what is coming, and what was held lately.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicEvents {
    pub municipality: PublicMunicipality,
    pub upcoming: Vec<PublicEventView>,
    pub past: Vec<PublicEventView>,
}

/// What the municipality's staff see when they write the public pages.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPagesAdmin {
    pub municipality: PublicMunicipality,
    pub articles: Vec<ArticleView>,
    pub upcoming: Vec<PublicEventView>,
    pub past: Vec<PublicEventView>,
    pub figures: Figures,
}

fn article_view(r: ArticleRow) -> ArticleView {
    ArticleView {
        id: r.id,
        title: r.title,
        body: r.body,
        published: r.published,
        published_at: r.published_at,
        updated_at: r.updated_at,
    }
}

fn event_view(r: PublicEventRow) -> PublicEventView {
    PublicEventView {
        id: r.id,
        title: r.title,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        place: r.place,
        description: r.description,
        cancelled: r.cancelled_at.is_some(),
    }
}

fn jst_date(t: OffsetDateTime) -> Date {
    t.to_offset(JST).date()
}

/// What the system can count a metric from: spans of presence (facilities)
/// or dates (home deaths), and from when its records cover the metric.
enum Counted {
    Present { spans: Vec<Presence<Uuid>>, began: Option<Date> },
    Dates { days: Vec<Date>, began: Option<Date> },
}

impl Counted {
    fn on_day(&self, day: Date) -> Option<OwnCount> {
        match self {
            Counted::Present { spans, began } => {
                began.filter(|b| *b <= day).map(|_| OwnCount { value: count_present_on(spans, day), complete: true })
            }
            Counted::Dates { .. } => None,
        }
    }

    /// Over a fiscal year, the part of it up to `today`.
    fn over_year(&self, year: FiscalYear, today: Date) -> Option<OwnCount> {
        match self {
            Counted::Dates { days, began } => began.filter(|b| *b < year.end()).map(|b| OwnCount {
                value: count_in_year(days, year),
                complete: b <= year.first_day() && today >= year.end(),
            }),
            Counted::Present { .. } => None,
        }
    }

    fn began(&self) -> Option<Date> {
        match self {
            Counted::Present { began, .. } | Counted::Dates { began, .. } => *began,
        }
    }
}

async fn counted(tx: &mut dyn StoreTx, municipality: Uuid, metric: FigureMetric) -> Result<Counted, AppError> {
    Ok(match metric {
        FigureMetric::SupportClinics | FigureMetric::SupportHospitals => {
            let prefix = if metric == FigureMetric::SupportClinics {
                FlagFilter::HomeCareSupportClinic
            } else {
                FlagFilter::HomeCareSupportHospital
            };
            let rows = tx.flag_spans(municipality, prefix.code()).await?;
            let began = rows.iter().map(|r| jst_date(r.recorded_at)).min();
            let spans = rows
                .into_iter()
                .map(|r| Presence {
                    key: r.facility_id,
                    from: r.since.unwrap_or_else(|| jst_date(r.recorded_at)),
                    until: r.ended_at.map(jst_date),
                })
                .collect();
            Counted::Present { spans, began }
        }
        FigureMetric::NursingStations => {
            let rows = tx.facility_spans(municipality, "home_nursing_station").await?;
            let began = rows.iter().map(|r| jst_date(r.created_at)).min();
            let spans = rows
                .into_iter()
                .map(|r| Presence { key: r.id, from: jst_date(r.created_at), until: r.closed_at.map(jst_date) })
                .collect();
            Counted::Present { spans, began }
        }
        FigureMetric::HomeDeaths => Counted::Dates {
            days: tx.outcome_dates(municipality, Outcome::HomeDeath.code()).await?,
            began: tx.first_patient_at(municipality).await?.map(jst_date),
        },
    })
}

/// The figures table of a municipality on `today`.
async fn figures(tx: &mut dyn StoreTx, municipality: Uuid, today: Date) -> Result<Figures, AppError> {
    let metrics = FigureMetric::ALL.to_vec();
    let entered: Vec<EnteredFigureView> = tx
        .public_figures(municipality)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(EnteredFigureView {
                metric: FigureMetric::parse(&r.metric).ok()?,
                year: FiscalYear(r.fiscal_year),
                value: r.value,
                note: r.note,
                entered_at: r.entered_at,
            })
        })
        .collect();
    let by_key: HashMap<(FigureMetric, FiscalYear), i64> =
        entered.iter().map(|e| ((e.metric, e.year), e.value)).collect();
    let mut counted_metrics = Vec::with_capacity(metrics.len());
    for m in &metrics {
        counted_metrics.push(counted(tx, municipality, *m).await?);
    }
    let this_year = FiscalYear::of(today);
    let cell = |metric: FigureMetric, c: &Counted, period: Period| {
        let (own, year) = match period {
            Period::Now(day, year) if metric.is_count_over_year() => (c.over_year(year, day), year),
            Period::Now(day, year) => (c.on_day(day), year),
            Period::Year(year) if metric.is_count_over_year() => (c.over_year(year, today), year),
            Period::Year(year) => (c.on_day(year.first_day()), year),
        };
        choose_figure(metric, own, by_key.get(&(metric, year)).copied())
    };
    // Past years: back to the earliest the system or the municipality knows, at most FIGURE_YEARS.
    let earliest = counted_metrics
        .iter()
        .filter_map(|c| c.began().map(FiscalYear::of))
        .chain(entered.iter().map(|e| e.year))
        .min()
        .unwrap_or(this_year);
    let first = FiscalYear(earliest.0.max(this_year.0 - FIGURE_YEARS));
    let mut periods = vec![Period::Now(today, this_year)];
    periods.extend((first.0..this_year.0).rev().map(|y| Period::Year(FiscalYear(y))));
    // Past years about which nothing is known are left out (the present stays, even empty).
    let lines = periods
        .into_iter()
        .map(|period| FigureLine {
            period,
            cells: metrics.iter().zip(&counted_metrics).map(|(m, c)| cell(*m, c, period)).collect(),
        })
        .filter(|line| matches!(line.period, Period::Now(..)) || line.cells.iter().any(Option::is_some))
        .collect();
    Ok(Figures { metrics, lines, entered })
}

/// What a writer of the public pages did, for the audit log.
struct Done {
    action: AuditAction,
    kind: &'static str,
    target: Option<Uuid>,
    details: serde_json::Value,
}

/// Appends the audit event of a write to the public pages and commits, in the write's transaction.
async fn audited_commit(
    mut tx: crate::write_tx::WriteTx,
    now: OffsetDateTime,
    m: MunicipalityId,
    session: &Session,
    meta: &RequestMeta,
    done: Done,
) -> Result<(), AppError> {
    let record =
        audit_record(now, Some(m), &session.audit_actor(meta), done.action, done.kind, done.target, done.details);
    tx.append_audit(&record).await?;
    tx.commit().await?;
    Ok(())
}

impl App {
    /// The municipality's public home page: figures, latest articles, coming events.
    pub async fn public_home(&self, code: &str) -> Result<PublicHome, AppError> {
        let today = self.today();
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        Ok(PublicHome {
            figures: figures(tx.as_mut(), id, today).await?,
            articles: tx.articles(id, false, HOME_ARTICLES).await?.into_iter().map(article_view).collect(),
            upcoming: tx.public_events_from(id, now, 10).await?.into_iter().map(event_view).collect(),
            municipality: m,
        })
    }

    /// The programme's figures alone (the public API).
    pub async fn public_figures(&self, code: &str) -> Result<(PublicMunicipality, Figures), AppError> {
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        Ok((m, figures(tx.as_mut(), id, today).await?))
    }

    /// The published articles, newest first.
    pub async fn public_articles(&self, code: &str) -> Result<(PublicMunicipality, Vec<ArticleView>), AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        Ok((m, tx.articles(id, false, LIST_LIMIT).await?.into_iter().map(article_view).collect()))
    }

    /// One published article; a draft is "not found".
    pub async fn public_article(
        &self,
        code: &str,
        article: Uuid,
    ) -> Result<(PublicMunicipality, ArticleView), AppError> {
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        let row = tx.article(id, article).await?.filter(|a| a.published).ok_or(AppError::NotFound)?;
        Ok((m, article_view(row)))
    }

    /// Coming events (cancelled ones say so) and the last ones held.
    pub async fn public_events(&self, code: &str) -> Result<PublicEvents, AppError> {
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let (id, m) = self.public_municipality_of(tx.as_mut(), code).await?;
        let upcoming: Vec<PublicEventView> =
            tx.public_events_from(id, now, LIST_LIMIT).await?.into_iter().map(event_view).collect();
        let past = tx
            .public_events_before(id, now, 10 + upcoming.len() as i64)
            .await?
            .into_iter()
            .filter(|e| !upcoming.iter().any(|u| u.id == e.id))
            .take(10)
            .map(event_view)
            .collect();
        Ok(PublicEvents { municipality: m, upcoming, past })
    }

    /// The municipality the session writes public pages for, access-checked.
    async fn writing_municipality(
        &self,
        tx: &mut dyn StoreTx,
        session: &Session,
    ) -> Result<(MunicipalityId, PublicMunicipality), AppError> {
        let actor = session.actor()?;
        // Installation operators belong to no municipality and do not write its pages.
        let m = actor.municipality_id.ok_or(AppError::Forbidden)?;
        enforce(policy::manage_public_pages(&actor, m))?;
        let row = tx.municipality(m.0).await?.ok_or(AppError::NotFound)?;
        Ok((m, PublicMunicipality { code: row.code, name: row.name }))
    }

    /// Everything the municipality has written (drafts too) and its figures.
    pub async fn public_pages_admin(&self, session: &Session) -> Result<PublicPagesAdmin, AppError> {
        let today = self.today();
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let (m, municipality) = self.writing_municipality(tx.as_mut(), session).await?;
        Ok(PublicPagesAdmin {
            articles: tx.articles(m.0, true, LIST_LIMIT).await?.into_iter().map(article_view).collect(),
            upcoming: tx.public_events_from(m.0, now, LIST_LIMIT).await?.into_iter().map(event_view).collect(),
            past: tx.public_events_before(m.0, now, 20).await?.into_iter().map(event_view).collect(),
            figures: figures(tx.as_mut(), m.0, today).await?,
            municipality,
        })
    }

    /// An article to edit (drafts too).
    pub async fn article_for_edit(
        &self,
        session: &Session,
        article: Uuid,
    ) -> Result<(PublicMunicipality, ArticleView), AppError> {
        let mut tx = self.store.begin_read().await?;
        let (m, municipality) = self.writing_municipality(tx.as_mut(), session).await?;
        Ok((municipality, article_view(tx.article(m.0, article).await?.ok_or(AppError::NotFound)?)))
    }

    /// Writes a new article (`article` none) or a new text of one; returns its id.
    pub async fn save_article(
        &self,
        session: &Session,
        article: Option<Uuid>,
        draft: &ArticleDraft,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let (m, _) = self.writing_municipality(tx.as_mut(), session).await?;
        let actor = session.account.id.0;
        let first_publication = |before: Option<OffsetDateTime>| match (draft.published, before) {
            (true, None) => Some(now),
            (_, kept) => kept,
        };
        let id = match article {
            None => {
                let row = ArticleRow {
                    id: Uuid::now_v7(),
                    municipality_id: m.0,
                    title: draft.title.clone(),
                    body: draft.body.clone(),
                    published: draft.published,
                    published_at: first_publication(None),
                    created_at: now,
                    updated_at: now,
                    updated_by: actor,
                };
                tx.insert_article(&row).await?;
                row.id
            }
            Some(id) => {
                let before = tx.article(m.0, id).await?.ok_or(AppError::NotFound)?;
                let row = ArticleRow {
                    title: draft.title.clone(),
                    body: draft.body.clone(),
                    published: draft.published,
                    published_at: first_publication(before.published_at),
                    updated_at: now,
                    updated_by: actor,
                    ..before
                };
                tx.update_article(&row).await?;
                id
            }
        };
        let done = Done {
            action: AuditAction::ArticleSaved,
            kind: "article",
            target: Some(id),
            details: json!({ "title": draft.title, "published": draft.published, "new": article.is_none() }),
        };
        audited_commit(tx, now, m, session, meta, done).await?;
        Ok(id)
    }

    /// A public event to edit.
    pub async fn public_event_for_edit(&self, session: &Session, event: Uuid) -> Result<PublicEventView, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (m, _) = self.writing_municipality(tx.as_mut(), session).await?;
        Ok(event_view(tx.public_event(m.0, event).await?.ok_or(AppError::NotFound)?))
    }

    /// Announces a public event (`event` none) or changes one; returns its id.
    pub async fn save_public_event(
        &self,
        session: &Session,
        event: Option<Uuid>,
        draft: &PublicEventDraft,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let (m, _) = self.writing_municipality(tx.as_mut(), session).await?;
        let actor = session.account.id.0;
        let id = match event {
            None => {
                let row = PublicEventRow {
                    id: Uuid::now_v7(),
                    municipality_id: m.0,
                    title: draft.title.clone(),
                    starts_at: draft.starts_at,
                    ends_at: draft.ends_at,
                    place: draft.place.clone(),
                    description: draft.description.clone(),
                    cancelled_at: None,
                    created_at: now,
                    updated_at: now,
                    updated_by: actor,
                };
                tx.insert_public_event(&row).await?;
                row.id
            }
            Some(id) => {
                let before = tx.public_event(m.0, id).await?.ok_or(AppError::NotFound)?;
                let row = PublicEventRow {
                    title: draft.title.clone(),
                    starts_at: draft.starts_at,
                    ends_at: draft.ends_at,
                    place: draft.place.clone(),
                    description: draft.description.clone(),
                    updated_at: now,
                    updated_by: actor,
                    ..before
                };
                tx.update_public_event(&row).await?;
                id
            }
        };
        let done = Done {
            action: AuditAction::PublicEventSaved,
            kind: "public_event",
            target: Some(id),
            details: json!({ "title": draft.title, "starts_at": draft.starts_at.to_string(), "new": event.is_none() }),
        };
        audited_commit(tx, now, m, session, meta, done).await?;
        Ok(id)
    }

    /// Cancels (or, `cancelled` false, reinstates) a public event: it stays
    /// listed, marked 中止, so that nobody turns up wondering.
    pub async fn cancel_public_event(
        &self,
        session: &Session,
        event: Uuid,
        cancelled: bool,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let (m, _) = self.writing_municipality(tx.as_mut(), session).await?;
        let before = tx.public_event(m.0, event).await?.ok_or(AppError::NotFound)?;
        let row = PublicEventRow {
            cancelled_at: if cancelled { before.cancelled_at.or(Some(now)) } else { None },
            updated_at: now,
            updated_by: session.account.id.0,
            ..before
        };
        tx.update_public_event(&row).await?;
        let done = Done {
            action: AuditAction::PublicEventSaved,
            kind: "public_event",
            target: Some(event),
            details: json!({ "title": row.title, "cancelled": cancelled }),
        };
        audited_commit(tx, now, m, session, meta, done).await?;
        Ok(())
    }

    /// Enters (or corrects) a figure of a fiscal year from the municipality's statistics.
    pub async fn enter_figure(
        &self,
        session: &Session,
        figure: &EnteredFigure,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let (m, _) = self.writing_municipality(tx.as_mut(), session).await?;
        tx.upsert_public_figure(&PublicFigureRow {
            municipality_id: m.0,
            metric: figure.metric.code().to_owned(),
            fiscal_year: figure.year.0,
            value: figure.value,
            note: figure.note.clone(),
            entered_by: session.account.id.0,
            entered_at: now,
        })
        .await?;
        let done = Done {
            action: AuditAction::FigureEntered,
            kind: "public_figure",
            target: None,
            details: json!({ "metric": figure.metric.code(), "fiscal_year": figure.year.0, "value": figure.value, "note": figure.note }),
        };
        audited_commit(tx, now, m, session, meta, done).await?;
        Ok(())
    }

    /// Withdraws an entered figure (the system's own count, if any, shows again).
    pub async fn remove_figure(
        &self,
        session: &Session,
        metric: FigureMetric,
        year: FiscalYear,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let (m, _) = self.writing_municipality(tx.as_mut(), session).await?;
        if !tx.delete_public_figure(m.0, metric.code(), year.0).await? {
            return Err(AppError::NotFound);
        }
        let done = Done {
            action: AuditAction::FigureEntered,
            kind: "public_figure",
            target: None,
            details: json!({ "metric": metric.code(), "fiscal_year": year.0, "removed": true }),
        };
        audited_commit(tx, now, m, session, meta, done).await?;
        Ok(())
    }
}
