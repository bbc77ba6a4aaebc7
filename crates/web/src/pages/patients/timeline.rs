//! The patient page with its timeline and compose form; an entry, its correction and acknowledgement; printing, export and attachments.

use super::*;

/// The compose form as typed (kept after an error).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct EntryFormValues {
    kind: String,
    audience: String,
    body: String,
    needs_reply: bool,
    reply_to: String,
    reason: String,
    temperature_c: String,
    systolic: String,
    diastolic: String,
    pulse: String,
    spo2: String,
    respiratory_rate: String,
    weight_kg: String,
    blood_glucose: String,
    pain: String,
    bowel_movements: String,
}

impl EntryFormValues {
    /// Sets one field by its form name (for multipart forms).
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "kind" => &mut self.kind,
            "audience" => &mut self.audience,
            "body" => &mut self.body,
            "reply_to" => &mut self.reply_to,
            "reason" => &mut self.reason,
            "temperature_c" => &mut self.temperature_c,
            "systolic" => &mut self.systolic,
            "diastolic" => &mut self.diastolic,
            "pulse" => &mut self.pulse,
            "spo2" => &mut self.spo2,
            "respiratory_rate" => &mut self.respiratory_rate,
            "weight_kg" => &mut self.weight_kg,
            "blood_glucose" => &mut self.blood_glucose,
            "pain" => &mut self.pain,
            "bowel_movements" => &mut self.bowel_movements,
            "needs_reply" => {
                self.needs_reply = value == "true";
                return;
            }
            _ => return,
        };
        *slot = value;
    }

    fn vitals(&self) -> VitalsForm<'_> {
        VitalsForm {
            temperature_c: &self.temperature_c,
            systolic: &self.systolic,
            diastolic: &self.diastolic,
            pulse: &self.pulse,
            spo2: &self.spo2,
            respiratory_rate: &self.respiratory_rate,
            weight_kg: &self.weight_kg,
            blood_glucose: &self.blood_glucose,
            pain: &self.pain,
            bowel_movements: &self.bowel_movements,
        }
    }

    fn has_vitals(&self) -> bool {
        [
            &self.temperature_c,
            &self.systolic,
            &self.pulse,
            &self.spo2,
            &self.respiratory_rate,
            &self.weight_kg,
            &self.blood_glucose,
            &self.pain,
            &self.bowel_movements,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "patient.html")]
pub(super) struct PatientTemplate {
    t: Tr,
    c: Chrome,
    p: PatientPage,
    /// Where the browser keeps an unsent compose form (per reader and patient: `static/app.js`).
    draft_key: String,
    kinds: &'static [EntryKind],
    team_roles: &'static [TeamRole],
    consent_methods: &'static [ConsentMethod],
    filter: String,
    entry: EntryFormValues,
    today: String,
    statuses: &'static [PatientStatus],
    outcomes: &'static [Outcome],
    search: String,
    chart: Option<String>,
    professions: Vec<tsunagu_domain::account::Profession>,
    profession: String,
    /// Everyone who has been on the team, to filter by author.
    authors: Vec<(Uuid, String)>,
    /// The timeline as conversations (replies under their entry).
    threads: Vec<tsunagu_app::patients::Thread>,
    /// Entries on this page (a reply to anything else links to it).
    shown_ids: std::collections::HashSet<Uuid>,
    /// The entry being replied to, when it is on this page.
    replying_to: Option<tsunagu_app::patients::EntryView>,
    author: String,
    from: String,
    to: String,
    /// The municipality's hospitals (to pick the backup hospital), for those who act for the team.
    hospitals: Vec<(Uuid, String)>,
    request_kinds: &'static [tsunagu_domain::escalation::RequestKind],
}

impl PatientTemplate {
    fn pending(&self) -> bool {
        self.p.consent_state == ConsentState::Pending
    }
    fn withdrawn(&self) -> bool {
        self.p.consent_state == ConsentState::Withdrawn
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PatientQuery {
    notice: Option<String>,
    kind: String,
    q: String,
    profession: String,
    author: String,
    from: String,
    to: String,
    /// Open the compose form as a reply to this entry.
    reply_to: String,
}

pub(super) async fn patient_template(
    state: &AppState,
    ctx: &Ctx,
    patient: PatientId,
    view: &PatientQuery,
    entry: EntryFormValues,
    error: Option<String>,
) -> Result<PatientTemplate, WebError> {
    let session = ctx.signed_in()?;
    let (filter, search) = (view.kind.as_str(), view.q.as_str());
    let query = TimelineQuery {
        kind: filter,
        text: search,
        profession: &view.profession,
        author: &view.author,
        from: &view.from,
        to: &view.to,
        with_responders: true,
    };
    let p = state.app.patient_page(session, patient, &query, &ctx.meta).await?;
    let mut c = ctx.chrome(view.notice.as_deref());
    c.error = error;
    let today = state.app.now().to_offset(JST).date().to_string();
    let p_trend = p.vitals_trend.clone();
    // Filter by the professions present in the team.
    let mut professions: Vec<tsunagu_domain::account::Profession> = Vec::new();
    for profession in p.team.iter().filter_map(|m| m.profession) {
        if !professions.contains(&profession) {
            professions.push(profession);
        }
    }
    let threads = tsunagu_app::patients::threads(&p.timeline);
    let shown_ids = p.timeline.iter().map(|e| e.id).collect();
    let replying_to = p.timeline.iter().find(|e| e.id.to_string() == entry.reply_to).cloned();
    let mut authors: Vec<(Uuid, String)> = Vec::new();
    for m in &p.team {
        if !authors.iter().any(|(id, _)| *id == m.account_id) {
            authors.push((m.account_id, m.display_name.clone()));
        }
    }
    let hospitals = if p.can_act_for_team { state.app.hospitals(session).await? } else { Vec::new() };
    Ok(PatientTemplate {
        draft_key: format!("entry:{}:{}", session.account.id, patient),
        hospitals,
        request_kinds: tsunagu_domain::escalation::RequestKind::ALL,
        t: ctx.t,
        c,
        p,
        kinds: EntryKind::ALL,
        team_roles: TeamRole::ALL,
        consent_methods: ConsentMethod::ALL,
        filter: filter.to_owned(),
        entry,
        today,
        statuses: PatientStatus::ALL,
        outcomes: Outcome::ALL,
        search: search.to_owned(),
        chart: crate::chart::vitals_trend(&p_trend),
        professions,
        profession: view.profession.clone(),
        authors,
        threads,
        shown_ids,
        replying_to,
        author: view.author.clone(),
        from: view.from.clone(),
        to: view.to.clone(),
    })
}

/// The patient page again, with what went wrong with a form on it.
pub(crate) async fn patient_with_error(
    state: &AppState,
    ctx: &Ctx,
    patient: PatientId,
    e: tsunagu_app::AppError,
) -> Result<Response, WebError> {
    let (status, message) = ctx.form_error(e)?;
    let page =
        patient_template(state, ctx, patient, &PatientQuery::default(), EntryFormValues::default(), Some(message))
            .await?;
    Ok((status, page).into_response())
}

pub(crate) async fn patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Query(q): Query<PatientQuery>,
) -> Result<Response, WebError> {
    // A reply is usually a message; otherwise the visit record is the common case.
    let kind = if q.reply_to.is_empty() { "visit_record" } else { "message" };
    let entry = EntryFormValues { kind: kind.into(), reply_to: q.reply_to.clone(), ..EntryFormValues::default() };
    Ok(patient_template(&state, &ctx, id, &q, entry, None).await?.into_response())
}

/// The compose form: URL-encoded, or multipart when files are attached.
pub(crate) struct Submission<T> {
    pub(super) values: T,
    pub(super) files: Vec<tsunagu_app::attachments::UploadedFile>,
}

/// A form whose text fields can also arrive as multipart parts (with files).
pub(crate) trait MultipartFields: serde::de::DeserializeOwned + Default {
    fn set(&mut self, name: &str, value: String);
}

impl MultipartFields for EntryFormValues {
    fn set(&mut self, name: &str, value: String) {
        EntryFormValues::set(self, name, value);
    }
}

impl<T: MultipartFields + Send, S: Send + Sync> axum::extract::FromRequest<S> for Submission<T> {
    type Rejection = WebError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        // Only for a signed-in session: a stranger's upload is refused before it is read.
        crate::context::refuse_strangers(&request)?;
        let is_multipart = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            let Verified(values) = Verified::<T>::from_request(request, state).await?;
            return Ok(Self { values, files: Vec::new() });
        }
        let upload = VerifiedUpload::from_request(request, state).await?;
        let mut values = T::default();
        for (name, value) in upload.fields {
            values.set(&name, value);
        }
        let files = upload
            .files
            .into_iter()
            .filter(|part| part.name == "attachment" && !part.bytes.is_empty())
            .map(|part| tsunagu_app::attachments::UploadedFile {
                declared_type: part.content_type,
                file_name: part.file_name,
                bytes: part.bytes.to_vec(),
            })
            .collect();
        Ok(Self { values, files })
    }
}

pub(crate) async fn post_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    submission: Submission<EntryFormValues>,
) -> Result<Response, WebError> {
    let Submission { values: v, files } = submission;
    let session = ctx.signed_in()?;
    let reply_to = match v.reply_to.as_str() {
        "" => None,
        raw => Some(parse_id::<Uuid>(&ctx, raw)?),
    };
    let parsed = parse_entry(&v.kind, &v.body, &v.vitals(), v.needs_reply)
        .and_then(|d| d.for_audience(&v.audience, None).map_err(Into::into));
    let result = match parsed {
        Ok(draft) => state.app.post_entry(session, id, &draft, reply_to, &files, &ctx.meta).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(entry) => Ok(Redirect::to(&format!("/patients/{id}?notice=posted#e-{entry}")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            Ok((status, patient_template(&state, &ctx, id, &PatientQuery::default(), v, Some(message)).await?)
                .into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "entry.html")]
pub(super) struct EntryTemplate {
    t: Tr,
    c: Chrome,
    d: EntryDetail,
}

pub(crate) async fn entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let d = state.app.entry_detail(session, id, &ctx.meta).await?;
    Ok(EntryTemplate { t: ctx.t, c: ctx.chrome(q.notice.as_deref()), d }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "entry_correct.html")]
pub(super) struct CorrectTemplate {
    t: Tr,
    c: Chrome,
    d: EntryDetail,
    entry: EntryFormValues,
}

pub(super) fn values_of(d: &EntryDetail) -> EntryFormValues {
    let v = &d.entry.vitals;
    let s = |x: Option<String>| x.unwrap_or_default();
    EntryFormValues {
        kind: d.entry.kind.code().to_owned(),
        body: d.entry.body.clone(),
        needs_reply: d.entry.needs_reply,
        temperature_c: s(v.temperature_c.map(|x| x.to_string())),
        systolic: s(v.systolic.map(|x| x.to_string())),
        diastolic: s(v.diastolic.map(|x| x.to_string())),
        pulse: s(v.pulse.map(|x| x.to_string())),
        spo2: s(v.spo2.map(|x| x.to_string())),
        respiratory_rate: s(v.respiratory_rate.map(|x| x.to_string())),
        weight_kg: s(v.weight_kg.map(|x| x.to_string())),
        blood_glucose: s(v.blood_glucose.map(|x| x.to_string())),
        pain: s(v.pain.map(|x| x.to_string())),
        bowel_movements: s(v.bowel_movements.map(|x| x.to_string())),
        ..EntryFormValues::default()
    }
}

pub(crate) async fn correct_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let d = state.app.entry_detail(session, id, &ctx.meta).await?;
    let entry = values_of(&d);
    Ok(CorrectTemplate { t: ctx.t, c: ctx.chrome(None), d, entry }.into_response())
}

pub(crate) async fn correct(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
    Verified(v): Verified<EntryFormValues>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let result = match parse_entry(&v.kind, &v.body, &v.vitals(), v.needs_reply) {
        Ok(draft) => state.app.correct_entry(session, id, &draft, &v.reason, &ctx.meta).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(patient) => Ok(Redirect::to(&format!("/patients/{patient}?notice=corrected#e-{id}")).into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let d = state.app.entry_detail(session, id, &ctx.meta).await?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, CorrectTemplate { t: ctx.t, c, d, entry: v }).into_response())
        }
    }
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<EntryId>,
    _: Verified<NoFields>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let patient = state.app.acknowledge_entry(session, id, &ctx.meta).await?;
    Ok(Redirect::to(&format!("/patients/{patient}?notice=acknowledged#e-{id}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "print.html")]
pub(super) struct PrintTemplate {
    t: Tr,
    c: Chrome,
    r: tsunagu_app::patients::PrintedRecord,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PrintQuery {
    from: String,
    to: String,
}

pub(crate) async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PatientId>,
    Query(q): Query<PrintQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let r = state.app.print_record(session, id, &q.from, &q.to, &ctx.meta).await?;
    Ok(PrintTemplate { t: ctx.t, c: ctx.chrome(None), r }.into_response())
}

/// The whole record as a FHIR Bundle, downloaded for a transfer to a hospital
/// or another municipality (the same export as `Patient/{id}/$everything`).
pub(crate) async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Id(id): Id<PatientId>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let export = state.app.fhir_export(session, id, &ctx.meta).await?;
    let bundle = crate::fhir::everything(&crate::fhir::fhir_base(&headers, &state), &export);
    let disposition = format!("attachment; filename=\"patient-{id}.fhir.json\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/fhir+json; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        serde_json::to_vec(&bundle).map_err(|e| ctx.fail(tsunagu_app::AppError::Internal(e.to_string())))?,
    )
        .into_response())
}

pub(crate) async fn attachment(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<Uuid>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let (content_type, file_name, bytes) = state.app.attachment(session, id, &ctx.meta).await?;
    Ok(super::super::file_response(content_type, &file_name, bytes))
}
