//! The desk's queue and the form with which it records a consultation.

use super::*;
use tsunagu_app::coordination::{CaseLine, Desk};
use tsunagu_domain::coordination::{Channel, ConsultationForm, RequesterKind, TopicDef, Urgency};

#[derive(Template, WebTemplate)]
#[template(path = "centre_desk.html")]
struct DeskPage {
    t: Tr,
    c: Chrome,
    w: Words,
    d: Desk,
}

impl DeskPage {
    fn subject(&self, line: &CaseLine) -> String {
        line.subject.clone().unwrap_or_else(|| line.requester_name.clone())
    }
}

/// `GET /centre`: the desk's queue.
pub(crate) async fn desk(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let d = state.app.desk(session, &ctx.meta).await?;
    Ok(DeskPage { t: ctx.t, c: ctx.chrome(q.notice.as_deref()), w: Words { t: ctx.t }, d }.into_response())
}

/// The consultation form as typed.
#[derive(Default, Clone)]
pub(crate) struct ConsultationValues {
    pub channel: String,
    pub requester_kind: String,
    pub requester_name: String,
    pub requester_contact: String,
    pub subject_name: String,
    pub subject_area: String,
    pub topics: Vec<String>,
    pub urgency: String,
    pub summary: String,
    /// The public form's trap for robots (a field people do not see).
    pub website: String,
}

impl ConsultationValues {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut v = Self::default();
        for (k, value) in pairs {
            let slot = match k.as_str() {
                "channel" => &mut v.channel,
                "requester_kind" => &mut v.requester_kind,
                "requester_name" => &mut v.requester_name,
                "requester_contact" => &mut v.requester_contact,
                "subject_name" => &mut v.subject_name,
                "subject_area" => &mut v.subject_area,
                "urgency" => &mut v.urgency,
                "summary" => &mut v.summary,
                "website" => &mut v.website,
                "topics" => {
                    v.topics.push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
        }
        v
    }

    pub fn form(&self) -> ConsultationForm<'_> {
        ConsultationForm {
            channel: &self.channel,
            requester_kind: &self.requester_kind,
            requester_name: &self.requester_name,
            requester_contact: &self.requester_contact,
            subject_name: &self.subject_name,
            subject_area: &self.subject_area,
            topics: self.topics.iter().map(String::as_str).collect(),
            urgency: &self.urgency,
            summary: &self.summary,
        }
    }

    pub fn has_topic(&self, code: &str) -> bool {
        self.topics.iter().any(|t| t == code)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "centre_case_new.html")]
struct NewCasePage {
    t: Tr,
    c: Chrome,
    v: ConsultationValues,
    channels: Vec<Channel>,
    requesters: &'static [RequesterKind],
    topics: Vec<TopicDef>,
    urgencies: &'static [Urgency],
}

async fn new_case_page(
    state: &AppState,
    ctx: &Ctx,
    v: ConsultationValues,
    error: Option<String>,
) -> Result<NewCasePage, WebError> {
    let session = ctx.signed_in()?;
    let topics = state.app.consultation_topics(session).await?.into_iter().filter(|t| !t.retired).collect();
    let mut c = ctx.chrome(None);
    c.error = error;
    Ok(NewCasePage {
        t: ctx.t,
        c,
        v,
        channels: Channel::ALL
            .iter()
            .copied()
            .filter(|c| !matches!(c, Channel::WebForm | Channel::DischargeRequest))
            .collect(),
        requesters: RequesterKind::ALL,
        topics,
        urgencies: Urgency::ALL,
    })
}

/// `GET /centre/cases/new`: record a consultation taken by phone or in person.
pub(crate) async fn new_case(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    state.app.require_desk(session)?;
    let v = ConsultationValues {
        channel: "phone".into(),
        requester_kind: "family".into(),
        urgency: "routine".into(),
        ..ConsultationValues::default()
    };
    Ok(new_case_page(&state, &ctx, v, None).await?.into_response())
}

/// `POST /centre/cases`.
pub(crate) async fn create_case(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let v = ConsultationValues::from_pairs(pairs);
    match state.app.record_consultation(session, &v.form(), &ctx.meta).await {
        Ok(id) => Ok(Redirect::to(&format!("/centre/cases/{id}?notice=created")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, new_case_page(&state, &ctx, v, Some(message)).await?).into_response())
        }
    }
}
