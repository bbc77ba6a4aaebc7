//! The analysts' export (issue 6): a page that says what the file holds and
//! what it leaves out, and the file itself (CSV, UTF-8 with BOM for Excel).
//! Each download is audited by the app.

use super::Chrome;
use crate::AppState;
use crate::context::Ctx;
use crate::error::WebError;
use crate::i18n::Tr;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tsunagu_domain::analysis::MIN_GROUP;
use tsunagu_domain::text::csv_text_cell;

#[derive(Template, WebTemplate)]
#[template(path = "admin_analysis.html")]
struct AnalysisPage {
    t: Tr,
    c: Chrome,
    municipality: String,
    min_group: usize,
}

/// `GET /admin/analysis`: what the export holds, and the download.
pub(crate) async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let municipality = state.app.analysis_export_page(session).await?;
    Ok(AnalysisPage { t: ctx.t, c: ctx.chrome(None), municipality, min_group: MIN_GROUP }.into_response())
}

/// `GET /admin/analysis.csv`: the de-identified rows.
pub(crate) async fn csv(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let export = state.app.export_for_analysis(session, &ctx.meta).await?;
    let internal = |e: String| ctx.fail(tsunagu_app::AppError::Internal(e));
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut header_row: Vec<String> = [
        "番号",
        "年齢区分",
        "性別",
        "要介護度",
        "日常生活圏域",
        "特別な医療・ケア",
        "状態",
        "転帰",
        "転帰の年月",
        "登録の年月",
        "同意の年月",
        "療養月数",
        "ケアチームの職種",
    ]
    .map(str::to_owned)
    .to_vec();
    header_row.extend(tsunagu_domain::care::EntryKind::ALL.iter().map(|k| format!("記録件数（{}）", k.label_ja())));
    header_row.extend(["急変時の依頼件数", "うち入院", "人生会議で希望する最期の場所"].map(str::to_owned));
    out.write_record(&header_row).map_err(|e| internal(e.to_string()))?;
    // Only the area (日常生活圏域) is text that people type (its name is the municipality's);
    // it goes through `csv_text_cell` so that a spreadsheet does not run it as a formula.
    // The other cells are our own labels, months and counts (numbers must stay numbers).
    for (n, r) in export.rows.iter().enumerate() {
        let joined = |labels: Vec<&str>| labels.join("・");
        let mut row = vec![
            (n + 1).to_string(),
            r.age_band.clone(),
            r.sex.label_ja().to_owned(),
            r.care_level.label_ja().to_owned(),
            // Not recorded and hidden look alike, so that a hidden area marks nobody out.
            csv_text_cell(r.area.as_deref().unwrap_or_default()).into_owned(),
            joined(r.special_care.iter().map(|s| s.label_ja()).collect()),
            r.status.label_ja().to_owned(),
            r.outcome.map(|o| o.label_ja()).unwrap_or_default().to_owned(),
            r.outcome_month.clone().unwrap_or_default(),
            r.registered_month.clone(),
            r.consent_month.clone(),
            r.months_in_care.to_string(),
            joined(r.team_roles.iter().map(|t| t.label_ja()).collect()),
        ];
        row.extend(r.entries.iter().map(|(_, count)| count.to_string()));
        row.push(r.urgent_requests.to_string());
        row.push(r.admissions.to_string());
        row.push(r.wished_place_of_death.map(|p| p.label_ja()).unwrap_or_default().to_owned());
        out.write_record(&row).map_err(|e| internal(e.to_string()))?;
    }
    let bytes = out.into_inner().map_err(|e| internal(e.to_string()))?;
    let disposition = format!("attachment; filename=\"analysis-{}.csv\"", export.municipality_code);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}
