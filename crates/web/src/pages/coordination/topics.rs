//! The consultation topics a municipality offers: rename, retire, add.

use super::*;
use tsunagu_domain::coordination::{TopicDef, TopicRow};

#[derive(Template, WebTemplate)]
#[template(path = "centre_topics.html")]
struct TopicsPage {
    t: Tr,
    c: Chrome,
    topics: Vec<TopicDef>,
    /// Blank rows to add topics.
    blanks: usize,
}

async fn render(state: &AppState, ctx: &Ctx, c: Chrome) -> Result<TopicsPage, WebError> {
    let session = ctx.signed_in()?;
    // Only those who may change the list are offered the page.
    state.app.require_topic_editing(session)?;
    let topics = state.app.consultation_topics(session).await?;
    Ok(TopicsPage { t: ctx.t, c, topics, blanks: 3 })
}

/// `GET /centre/topics`.
pub(crate) async fn topics(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(render(&state, &ctx, ctx.chrome(q.notice.as_deref())).await?.into_response())
}

/// `POST /centre/topics`: rows of `code` (empty for a new one), `label`, and `retired` (the codes ticked).
pub(crate) async fn save_topics(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let codes: Vec<&str> = pairs.iter().filter(|(k, _)| k == "code").map(|(_, v)| v.as_str()).collect();
    let labels: Vec<&str> = pairs.iter().filter(|(k, _)| k == "label").map(|(_, v)| v.as_str()).collect();
    let retired: Vec<&str> = pairs.iter().filter(|(k, _)| k == "retired").map(|(_, v)| v.as_str()).collect();
    let rows: Vec<TopicRow<'_>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| TopicRow {
            code,
            label: labels.get(i).copied().unwrap_or_default(),
            retired: !code.is_empty() && retired.contains(code),
        })
        .collect();
    match state.app.save_consultation_topics(session, &rows, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to("/centre/topics?notice=saved").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, render(&state, &ctx, c).await?).into_response())
        }
    }
}
