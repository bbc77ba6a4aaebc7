//! The hospitals' discharge requests, and the page on which a candidate
//! facility answers the centre's request to join a team (phone first).

use super::*;
use crate::pages::patients::PatientFormValues;
use tsunagu_app::coordination::{CandidateRequestPage, DischargeDesk, SentRequest};
use tsunagu_domain::coordination::PatientFields;
use tsunagu_domain::coordination::{DeclineReason, HandoverForm};
use tsunagu_domain::ids::{CandidateRequestId, FacilityId};
use tsunagu_domain::patient::{CareLevel, Place, Sex, SpecialCare};
use tsunagu_domain::registry::FacilityService;

#[derive(Template, WebTemplate)]
#[template(path = "discharge.html")]
struct DischargeListPage {
    t: Tr,
    c: Chrome,
    w: Words,
    d: DischargeDesk,
}

/// `GET /discharge`: a hospital's requests, and the way to a new one.
pub(crate) async fn discharge_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let d = state.app.discharge_desk(session, &ctx.meta).await?;
    Ok(DischargeListPage { t: ctx.t, c: ctx.chrome(q.notice.as_deref()), w: Words { t: ctx.t }, d }.into_response())
}

/// The discharge request form as typed: the patient as a registration's
/// form, then the handover.
#[derive(Default, Clone)]
pub(crate) struct DischargeValues {
    hospital: String,
    patient: PatientFields,
    planned_discharge_on: String,
    medications: String,
    adl: String,
    family_situation: String,
    family_care_skills: String,
    place_of_care: String,
    place_of_death: String,
    needed_services: Vec<String>,
    note: String,
}

impl DischargeValues {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut v = Self { patient: PatientFormValues::from_pairs(pairs.clone()).patient, ..Self::default() };
        for (k, value) in pairs {
            let slot = match k.as_str() {
                "hospital" => &mut v.hospital,
                "planned_discharge_on" => &mut v.planned_discharge_on,
                "medications" => &mut v.medications,
                "adl" => &mut v.adl,
                "family_situation" => &mut v.family_situation,
                "family_care_skills" => &mut v.family_care_skills,
                "place_of_care" => &mut v.place_of_care,
                "place_of_death" => &mut v.place_of_death,
                "note" => &mut v.note,
                "needed_services" => {
                    v.needed_services.push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
        }
        v
    }

    fn handover(&self) -> HandoverForm<'_> {
        HandoverForm {
            planned_discharge_on: &self.planned_discharge_on,
            medications: &self.medications,
            adl: &self.adl,
            family_situation: &self.family_situation,
            family_care_skills: &self.family_care_skills,
            place_of_care: &self.place_of_care,
            place_of_death: &self.place_of_death,
            needed_services: self.needed_services.iter().map(String::as_str).collect(),
            note: &self.note,
        }
    }

    fn needs(&self, code: &str) -> bool {
        self.needed_services.iter().any(|c| c == code)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "discharge_new.html")]
struct DischargeFormPage {
    t: Tr,
    c: Chrome,
    v: DischargeValues,
    hospitals: Vec<(FacilityId, String)>,
    sexes: &'static [Sex],
    care_levels: &'static [CareLevel],
    special_cares: &'static [SpecialCare],
    places: &'static [Place],
    services: &'static [FacilityService],
    draft_key: String,
}

impl DischargeFormPage {
    fn is_hospital(&self, id: &FacilityId) -> bool {
        self.v.hospital == id.to_string()
    }
}

/// What the browser keeps a half-typed discharge request under (per account).
fn draft_key(session: &tsunagu_app::Session) -> String {
    format!("discharge:{}", session.account.id)
}

async fn discharge_form(
    state: &AppState,
    ctx: &Ctx,
    v: DischargeValues,
    error: Option<String>,
) -> Result<DischargeFormPage, WebError> {
    let session = ctx.signed_in()?;
    let hospitals = state.app.discharge_hospitals(session).await?;
    let mut c = ctx.chrome(None);
    c.error = error;
    Ok(DischargeFormPage {
        t: ctx.t,
        c,
        v,
        hospitals,
        sexes: Sex::ALL,
        care_levels: CareLevel::ALL,
        special_cares: SpecialCare::ALL,
        places: Place::ALL,
        services: FacilityService::ALL,
        draft_key: draft_key(session),
    })
}

/// `GET /discharge/new`.
pub(crate) async fn new_discharge(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let patient = PatientFields { sex: "female".into(), care_level: "applying".into(), ..PatientFields::default() };
    let v = DischargeValues { patient, ..DischargeValues::default() };
    Ok(discharge_form(&state, &ctx, v, None).await?.into_response())
}

/// `POST /discharge`: the request lands at the centre as a case.
pub(crate) async fn send_discharge(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let v = DischargeValues::from_pairs(pairs);
    let hospital = v.hospital.parse::<FacilityId>();
    let result = match hospital {
        Ok(h) => state.app.send_discharge_request(session, h, &v.patient.form(), &v.handover(), &ctx.meta).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/discharge/{id}?notice=sent")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, discharge_form(&state, &ctx, v, Some(message)).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "discharge_sent.html")]
struct SentPage {
    t: Tr,
    c: Chrome,
    w: Words,
    r: SentRequest,
    /// Right after sending: the draft the browser may forget.
    draft_sent: Option<String>,
}

/// `GET /discharge/{case}`: the sender follows its request.
pub(crate) async fn sent_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(case): Id<CaseId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let r = state.app.sent_request(session, case, &ctx.meta).await?;
    let draft_sent = (q.notice.as_deref() == Some("sent")).then(|| draft_key(session));
    Ok(SentPage { t: ctx.t, c: ctx.chrome(q.notice.as_deref()), w: Words { t: ctx.t }, r, draft_sent }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "candidate_request.html")]
struct CandidatePage {
    t: Tr,
    c: Chrome,
    w: Words,
    r: CandidateRequestPage,
    reasons: &'static [DeclineReason],
    note: String,
}

async fn candidate_page(
    state: &AppState,
    ctx: &Ctx,
    id: CandidateRequestId,
    c: Chrome,
    note: String,
) -> Result<CandidatePage, WebError> {
    let session = ctx.signed_in()?;
    let r = state.app.candidate_request(session, id, &ctx.meta).await?;
    Ok(CandidatePage { t: ctx.t, c, w: Words { t: ctx.t }, r, reasons: DeclineReason::ALL, note })
}

/// `GET /coordination/{request}`: the request as the candidate's staff read it.
pub(crate) async fn candidate_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<CandidateRequestId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let c = ctx.chrome(q.notice.as_deref());
    Ok(candidate_page(&state, &ctx, id, c, String::new()).await?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AnswerForm {
    answer: String,
    reason: String,
    note: String,
}

/// `POST /coordination/{request}/answer`.
pub(crate) async fn answer_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<CandidateRequestId>,
    Verified(f): Verified<AnswerForm>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    match state.app.answer_candidate_request(session, id, &f.answer, &f.reason, &f.note, &ctx.meta).await {
        Ok(()) => Ok(Redirect::to(&format!("/coordination/{id}?notice=saved")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, candidate_page(&state, &ctx, id, c, f.note).await?).into_response())
        }
    }
}
