//! The public pages (item キ), without signing in: the municipality's home
//! for citizens (figures, latest articles, coming events), an article, the
//! events; and the staff pages with which the municipality writes them.

use super::{Chrome, Id, NoticeQuery, parse_id};
use crate::AppState;
use crate::context::{Ctx, Verified};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::markdown;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use tsunagu_app::public_map::PublicMunicipality;
use tsunagu_app::public_pages::{
    ArticleView, FigureLine, Period, PublicEventView, PublicEvents, PublicHome, PublicPagesAdmin,
};
use tsunagu_domain::clock::JST;
use tsunagu_domain::public_pages::{
    ArticleDraft, EnteredFigure, Figure, FigureMetric, FigureSource, FiscalYear, PublicEventDraft, PublicEventForm,
    Shown,
};
use uuid::Uuid;

/// What the figures table and the event lists say, shared by the pages.
pub(crate) struct Words {
    t: Tr,
}

impl Words {
    pub fn period(&self, line: &FigureLine) -> String {
        match (line.period, self.t.lang) {
            (Period::Now(day, _), Lang::Ja) => {
                format!("現在（{}年{}月{}日）", day.year(), u8::from(day.month()), day.day())
            }
            (Period::Now(day, _), Lang::En) => format!("Now ({day})"),
            (Period::Year(y), Lang::Ja) => y.label_ja(),
            (Period::Year(y), Lang::En) => y.label_en(),
        }
    }

    /// A cell: the number, "5未満", or "—"; marks for the municipality's
    /// figures and for partial periods (explained under the table).
    pub fn figure(&self, cell: &Option<Figure>) -> String {
        let Some(f) = cell else { return "—".to_owned() };
        let mut out = match (f.shown, self.t.lang) {
            (Shown::Count(n), _) => n.to_string(),
            (Shown::FewerThan(n), Lang::Ja) => format!("{n}未満"),
            (Shown::FewerThan(n), Lang::En) => format!("fewer than {n}"),
        };
        if f.source == FigureSource::Entered {
            out.push('*');
        }
        if f.partial {
            out.push('†');
        }
        out
    }

    pub fn metric(&self, m: &FigureMetric) -> &'static str {
        self.t.label(m)
    }

    /// "12月12日（土）13:30〜15:00" in Japan's time.
    pub fn when(&self, e: &PublicEventView) -> String {
        let start = e.starts_at.to_offset(JST);
        let end = e.ends_at.map(|t| t.to_offset(JST));
        let weekday = |t: OffsetDateTime| match self.t.lang {
            Lang::Ja => ["月", "火", "水", "木", "金", "土", "日"][usize::from(t.weekday().number_days_from_monday())],
            Lang::En => {
                ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(t.weekday().number_days_from_monday())]
            }
        };
        let clock = |t: OffsetDateTime| format!("{}:{:02}", t.hour(), t.minute());
        let until = end.map(|e| format!("〜{}", clock(e))).unwrap_or_else(|| "〜".to_owned());
        match self.t.lang {
            Lang::Ja => format!(
                "{}年{}月{}日（{}）{}{}",
                start.year(),
                u8::from(start.month()),
                start.day(),
                weekday(start),
                clock(start),
                until
            ),
            Lang::En => format!("{} ({}) {}{}", start.date(), weekday(start), clock(start), until.replace('〜', "–")),
        }
    }

    /// A date people read ("2026年11月29日").
    pub fn day(&self, t: &OffsetDateTime) -> String {
        let d = t.to_offset(JST).date();
        match self.t.lang {
            Lang::Ja => format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()),
            Lang::En => d.to_string(),
        }
    }

    pub fn markdown(&self, text: &str) -> String {
        markdown::render(text)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public_home.html")]
struct HomePage {
    t: Tr,
    c: Chrome,
    w: Words,
    h: PublicHome,
}

/// `GET /m/{code}`: the municipality's page for citizens.
pub(crate) async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let h = state.app.public_home(&code).await?;
    Ok(HomePage { t: ctx.t, c: ctx.chrome(None), w: Words { t: ctx.t }, h }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public_articles.html")]
struct ArticlesPage {
    t: Tr,
    c: Chrome,
    w: Words,
    m: PublicMunicipality,
    articles: Vec<ArticleView>,
}

/// `GET /m/{code}/articles`: every published article, newest first.
pub(crate) async fn articles(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (m, articles) = state.app.public_articles(&code).await?;
    Ok(ArticlesPage { t: ctx.t, c: ctx.chrome(None), w: Words { t: ctx.t }, m, articles }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public_article.html")]
struct ArticlePage {
    t: Tr,
    c: Chrome,
    w: Words,
    m: PublicMunicipality,
    a: ArticleView,
}

/// `GET /m/{code}/articles/{article}`: one published article.
pub(crate) async fn article(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, article)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id: Uuid = parse_id(&ctx, &article)?;
    let (m, a) = state.app.public_article(&code, id).await?;
    Ok(ArticlePage { t: ctx.t, c: ctx.chrome(None), w: Words { t: ctx.t }, m, a }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public_events.html")]
struct EventsPage {
    t: Tr,
    c: Chrome,
    w: Words,
    p: PublicEvents,
}

/// `GET /m/{code}/events`: coming events and the last ones held.
pub(crate) async fn events(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let p = state.app.public_events(&code).await?;
    Ok(EventsPage { t: ctx.t, c: ctx.chrome(None), w: Words { t: ctx.t }, p }.into_response())
}

/// The forms of the staff page as typed (to show them again with an error).
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub(crate) struct ArticleValues {
    title: String,
    body: String,
    published: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub(crate) struct EventValues {
    title: String,
    date: String,
    starts: String,
    ends: String,
    place: String,
    description: String,
}

impl EventValues {
    fn form(&self) -> PublicEventForm<'_> {
        PublicEventForm {
            title: &self.title,
            date: &self.date,
            starts: &self.starts,
            ends: &self.ends,
            place: &self.place,
            description: &self.description,
        }
    }

    fn of(e: &PublicEventView) -> Self {
        let start = e.starts_at.to_offset(JST);
        Self {
            title: e.title.clone(),
            date: start.date().to_string(),
            starts: format!("{:02}:{:02}", start.hour(), start.minute()),
            ends: e
                .ends_at
                .map(|t| t.to_offset(JST))
                .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
                .unwrap_or_default(),
            place: e.place.clone(),
            description: e.description.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub(crate) struct FigureValues {
    metric: String,
    year: String,
    value: String,
    note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_public.html")]
struct AdminPage {
    t: Tr,
    c: Chrome,
    w: Words,
    p: PublicPagesAdmin,
    metrics: &'static [FigureMetric],
    article: ArticleValues,
    event: EventValues,
    figure: FigureValues,
}

async fn admin_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<String>,
    forms: (ArticleValues, EventValues, FigureValues),
) -> Result<AdminPage, WebError> {
    let session = ctx.signed_in()?;
    let p = state.app.public_pages_admin(session).await?;
    let mut c = ctx.chrome(notice);
    c.error = error;
    let (article, event, figure) = forms;
    Ok(AdminPage { t: ctx.t, c, w: Words { t: ctx.t }, p, metrics: FigureMetric::ALL, article, event, figure })
}

/// `GET /admin/public`: the municipality's articles, events and figures.
pub(crate) async fn admin(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(admin_page(&state, &ctx, q.notice.as_deref(), None, Default::default()).await?.into_response())
}

/// `POST /admin/public/articles`: a new article (a draft unless published).
pub(crate) async fn create_article(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<ArticleValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let saved = match ArticleDraft::parse(&form.title, &form.body, form.published == "yes") {
        Ok(draft) => state.app.save_article(session, None, &draft, &ctx.meta).await,
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/admin/public?notice=saved#articles").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let page = admin_page(&state, &ctx, None, Some(message), (form, Default::default(), Default::default()));
            Ok((status, page.await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_article.html")]
struct ArticleEditPage {
    t: Tr,
    c: Chrome,
    w: Words,
    id: Uuid,
    public_url: Option<String>,
    article: ArticleValues,
}

async fn article_edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    typed: Option<ArticleValues>,
    error: Option<String>,
) -> Result<ArticleEditPage, WebError> {
    let session = ctx.signed_in()?;
    let (m, a) = state.app.article_for_edit(session, id).await?;
    let code = m.code;
    let mut c = ctx.chrome(None);
    c.error = error;
    Ok(ArticleEditPage {
        t: ctx.t,
        c,
        w: Words { t: ctx.t },
        id,
        public_url: a.published.then(|| format!("/m/{code}/articles/{id}")),
        article: typed.unwrap_or(ArticleValues {
            title: a.title,
            body: a.body,
            published: if a.published { "yes".into() } else { String::new() },
        }),
    })
}

/// `GET /admin/public/articles/{article}`: an article to edit.
pub(crate) async fn edit_article(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
) -> Result<Response, WebError> {
    Ok(article_edit_page(&state, &ctx, id, None, None).await?.into_response())
}

/// `POST /admin/public/articles/{article}`: a new text, published or withdrawn.
pub(crate) async fn update_article(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    Verified(form): Verified<ArticleValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let saved = match ArticleDraft::parse(&form.title, &form.body, form.published == "yes") {
        Ok(draft) => state.app.save_article(session, Some(id), &draft, &ctx.meta).await,
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/admin/public?notice=saved#articles").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, article_edit_page(&state, &ctx, id, Some(form), Some(message)).await?).into_response())
        }
    }
}

/// `POST /admin/public/events`: announces an event.
pub(crate) async fn create_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<EventValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let saved = match PublicEventDraft::parse(&form.form()) {
        Ok(draft) => state.app.save_public_event(session, None, &draft, &ctx.meta).await,
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/admin/public?notice=saved#events").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let page = admin_page(&state, &ctx, None, Some(message), (Default::default(), form, Default::default()));
            Ok((status, page.await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_event.html")]
struct EventEditPage {
    t: Tr,
    c: Chrome,
    id: Uuid,
    cancelled: bool,
    event: EventValues,
}

async fn event_edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: Uuid,
    typed: Option<EventValues>,
    error: Option<String>,
) -> Result<EventEditPage, WebError> {
    let session = ctx.signed_in()?;
    let e = state.app.public_event_for_edit(session, id).await?;
    let mut c = ctx.chrome(None);
    c.error = error;
    Ok(EventEditPage { t: ctx.t, c, id, cancelled: e.cancelled, event: typed.unwrap_or_else(|| EventValues::of(&e)) })
}

/// `GET /admin/public/events/{event}`: an event to change or cancel.
pub(crate) async fn edit_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
) -> Result<Response, WebError> {
    Ok(event_edit_page(&state, &ctx, id, None, None).await?.into_response())
}

/// `POST /admin/public/events/{event}`: changes an event.
pub(crate) async fn update_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    Verified(form): Verified<EventValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let saved = match PublicEventDraft::parse(&form.form()) {
        Ok(draft) => state.app.save_public_event(session, Some(id), &draft, &ctx.meta).await,
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/admin/public?notice=saved#events").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, event_edit_page(&state, &ctx, id, Some(form), Some(message)).await?).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CancelValues {
    /// "no" reinstates a cancelled event.
    cancelled: String,
}

/// `POST /admin/public/events/{event}/cancellation`: marks it 中止 (or not).
pub(crate) async fn cancel_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
    Verified(form): Verified<CancelValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.cancel_public_event(session, id, form.cancelled != "no", &ctx.meta).await?;
    Ok(Redirect::to("/admin/public?notice=saved#events").into_response())
}

/// `POST /admin/public/figures`: a figure from the municipality's statistics.
pub(crate) async fn enter_figure(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<FigureValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let saved = match EnteredFigure::parse(&form.metric, &form.year, &form.value, &form.note) {
        Ok(figure) => state.app.enter_figure(session, &figure, &ctx.meta).await,
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(()) => Ok(Redirect::to("/admin/public?notice=saved#figures").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let page = admin_page(&state, &ctx, None, Some(message), (Default::default(), Default::default(), form));
            Ok((status, page.await?).into_response())
        }
    }
}

/// `POST /admin/public/figures/removal`: withdraws an entered figure.
pub(crate) async fn remove_figure(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(form): Verified<FigureValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let metric = FigureMetric::parse(&form.metric)
        .map_err(|_| ctx.fail(tsunagu_domain::ValidationError::new("metric", "unknown").into()))?;
    let year = FiscalYear::parse("year", &form.year).map_err(|e| ctx.fail(e.into()))?;
    state.app.remove_figure(session, metric, year, &ctx.meta).await?;
    Ok(Redirect::to("/admin/public?notice=saved#figures").into_response())
}
