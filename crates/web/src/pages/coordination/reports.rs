//! The desk's report for the council, as a page (with charts) and as CSV.

use super::*;
use tsunagu_app::coordination::CaseReport;
use tsunagu_domain::public_pages::FiscalYear;

#[derive(Deserialize, Default)]
pub(crate) struct YearQuery {
    year: Option<i32>,
}

fn year_of(state: &AppState, q: &YearQuery) -> FiscalYear {
    match q.year {
        Some(y) if (2000..=2100).contains(&y) => FiscalYear(y),
        _ => FiscalYear::of(state.app.now().to_offset(JST).date()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "centre_report.html")]
struct ReportPage {
    t: Tr,
    c: Chrome,
    w: Words,
    r: CaseReport,
    chart: String,
    previous: i32,
    next: i32,
}

impl ReportPage {
    fn year_label(&self) -> String {
        match self.t.lang {
            Lang::Ja => self.r.year.label_ja(),
            Lang::En => self.r.year.label_en(),
        }
    }

    fn reason_label(&self, r: &Option<tsunagu_domain::coordination::DeclineReason>) -> String {
        match r {
            Some(r) => self.t.label(r).to_owned(),
            None => self.t.s("centre.no_answer").to_owned(),
        }
    }
}

/// `GET /centre/reports?year=`.
pub(crate) async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let year = year_of(&state, &q);
    let r = state.app.case_report(session, year, &ctx.meta).await?;
    let bars: Vec<(String, i64, i64)> =
        r.months.iter().map(|m| (format!("{}", m.month), m.consultations, m.discharges)).collect();
    let chart = crate::chart::stacked_bars(&bars, ctx.t.s("centre.consultations"), ctx.t.s("centre.discharges"));
    Ok(ReportPage {
        t: ctx.t,
        c: ctx.chrome(None),
        w: Words { t: ctx.t },
        chart,
        previous: year.0 - 1,
        next: year.0 + 1,
        r,
    }
    .into_response())
}

/// `GET /centre/reports.csv?year=`: one line per case, no names.
pub(crate) async fn report_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let year = year_of(&state, &q);
    let r = state.app.case_report(session, year, &ctx.meta).await?;
    let t = ctx.t;
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let internal = |e: csv::Error| ctx.fail(tsunagu_app::AppError::Internal(e.to_string()));
    out.write_record([
        "created_on",
        "kind",
        "channel",
        "requester",
        "topics",
        "urgency",
        "state",
        "outcome",
        "area",
        "hours_to_first_response",
        "days_to_team",
    ])
    .map_err(internal)?;
    for l in &r.lines {
        let topics = l.topics.iter().map(|x| t.topic(x)).collect::<Vec<_>>().join("・");
        let area = l.area.as_deref().map(tsunagu_domain::text::csv_text_cell).unwrap_or_default();
        out.write_record([
            l.created_on.to_string().as_str(),
            t.label(&l.kind),
            t.label(&l.channel),
            t.label(&l.requester_kind),
            topics.as_str(),
            t.label(&l.urgency),
            t.label(&l.state),
            l.outcome.as_ref().map(|o| t.label(o)).unwrap_or_default(),
            &area,
            l.hours_to_first_response.map(|h| h.to_string()).unwrap_or_default().as_str(),
            l.days_to_team.map(|d| d.to_string()).unwrap_or_default().as_str(),
        ])
        .map_err(internal)?;
    }
    let out = out.into_inner().map_err(|e| ctx.fail(tsunagu_app::AppError::Internal(e.to_string())))?;
    let name = format!("attachment; filename=\"consultations-{}.csv\"", year.0);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        out,
    )
        .into_response())
}
