//! The public consultation form on the municipality's pages: no account,
//! no markup, a trap field for robots, and an hourly limit per address.

use super::desk::ConsultationValues;
use super::*;
use tsunagu_app::public_map::PublicMunicipality;
use tsunagu_domain::coordination::{RequesterKind, TopicDef};

#[derive(Template, WebTemplate)]
#[template(path = "public_consult.html")]
struct ConsultPage {
    t: Tr,
    c: Chrome,
    m: PublicMunicipality,
    v: ConsultationValues,
    requesters: Vec<RequesterKind>,
    topics: Vec<TopicDef>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public_consult_done.html")]
struct ConsultDonePage {
    t: Tr,
    c: Chrome,
    m: PublicMunicipality,
    receipt: String,
}

fn consult_page(
    ctx: &Ctx,
    m: PublicMunicipality,
    topics: Vec<TopicDef>,
    v: ConsultationValues,
    error: Option<String>,
) -> ConsultPage {
    let mut c = ctx.chrome(None);
    c.error = error;
    ConsultPage {
        t: ctx.t,
        c,
        m,
        v,
        requesters: RequesterKind::ALL.iter().copied().filter(|k| *k != RequesterKind::Hospital).collect(),
        topics,
    }
}

/// `GET /m/{code}/consult`.
pub(crate) async fn consult(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let m = state.app.public_municipality(&code).await?;
    let topics = state.app.public_consultation_topics(&code).await?;
    let cookie = ctx.ensure_anon_csrf()?;
    let v = ConsultationValues { requester_kind: "family".into(), ..ConsultationValues::default() };
    Ok(with_cookies(consult_page(&ctx, m, topics, v, None), cookie))
}

/// `POST /m/{code}/consult`.
pub(crate) async fn send_consult(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let m = state.app.public_municipality(&code).await?;
    let v = ConsultationValues::from_pairs(pairs);
    if !v.website.is_empty() {
        // Only robots fill the hidden field: they are thanked, and nothing is kept.
        return Ok(ConsultDonePage { t: ctx.t, c: ctx.chrome(None), m, receipt: String::new() }.into_response());
    }
    match state.app.submit_public_consultation(&code, &v.form(), &ctx.meta).await {
        Ok(receipt) => Ok(ConsultDonePage { t: ctx.t, c: ctx.chrome(None), m, receipt }.into_response()),
        Err(tsunagu_app::AppError::Throttled) => {
            let message = ctx.t.s("consult.throttled").to_owned();
            let topics = state.app.public_consultation_topics(&code).await?;
            Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, consult_page(&ctx, m, topics, v, Some(message)))
                .into_response())
        }
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let topics = state.app.public_consultation_topics(&code).await?;
            Ok((status, consult_page(&ctx, m, topics, v, Some(message))).into_response())
        }
    }
}
