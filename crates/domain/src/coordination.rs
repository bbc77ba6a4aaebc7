//! The coordination centre's desk (items オ and ウ): consultations, discharge
//! requests from hospitals, and finding a home-care team for a patient who
//! has none. What a case is, how it moves, what its input must be, and how
//! the candidates for each seat of the future team are ranked.

use crate::care::TeamRole;
use crate::facility::{FacilityKind, Location};
use crate::patient::{PatientDetails, PatientForm, Place, parse_date};
use crate::registry::{Accepting, FacilityService};
use crate::{ValidationError, coded_enum, text};
use serde::{Deserialize, Serialize};
use time::Date;

coded_enum!(
    /// What a case is about.
    CaseKind {
        Consultation = "consultation", "相談", "Consultation";
        Discharge = "discharge", "退院支援", "Discharge support";
    }
);

coded_enum!(
    /// Where a case is: new → in progress → coordinating → closed (with an outcome).
    CaseState {
        New = "new", "新規", "New";
        InProgress = "in_progress", "対応中", "In progress";
        Coordinating = "coordinating", "調整中", "Coordinating";
        Closed = "closed", "終了", "Closed";
    }
);

impl CaseState {
    /// Whether the desk may move a case from this state to `to` by hand.
    /// Nothing goes back to "new" (it means nobody has answered yet);
    /// closing needs an outcome ([`Closing`]); a closed case may be reopened.
    pub fn may_move_to(self, to: CaseState) -> bool {
        match (self, to) {
            (_, CaseState::New) | (_, CaseState::Closed) => false,
            (CaseState::Closed, to) => to == CaseState::InProgress,
            (from, to) => from != to,
        }
    }
}

coded_enum!(
    /// How a case reached the centre.
    Channel {
        Phone = "phone", "電話", "Phone";
        Visit = "visit", "来所・訪問", "In person";
        Email = "email", "メール", "E-mail";
        WebForm = "web_form", "Webの相談フォーム", "Web form";
        DischargeRequest = "discharge_request", "退院支援依頼", "Discharge request";
    }
);

coded_enum!(
    /// Who asked.
    RequesterKind {
        Patient = "patient", "本人", "The person themself";
        Family = "family", "家族", "Family";
        Hospital = "hospital", "病院（地域連携室・MSW）", "Hospital discharge unit";
        Professional = "professional", "専門職・事業所", "Professional";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// What a consultation is about.
    Topic {
        FindHomeDoctor = "find_home_doctor", "在宅医を探したい", "Finding a home doctor";
        CareServices = "care_services", "介護サービス", "Care services";
        AfterDischarge = "after_discharge", "退院後の生活", "Life after discharge";
        EndOfLife = "end_of_life", "自宅での看取り", "End of life at home";
        Dementia = "dementia", "認知症", "Dementia";
        Costs = "costs", "費用", "Costs";
        Other = "other", "その他", "Other";
    }
);

/// A topic a municipality offers for consultations: its own list, or
/// [`default_topics`] until it has one. Cases keep the code, so a topic is
/// retired, never removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDef {
    pub code: String,
    pub label: String,
    pub retired: bool,
}

impl TopicDef {
    /// The English name of one of tsunagu's topics (a municipality's own are named in Japanese only).
    pub fn label_en(&self) -> Option<&'static str> {
        Topic::parse(&self.code).ok().map(Topic::label_en)
    }
}

/// tsunagu's topics, the list a municipality starts with.
pub fn default_topics() -> Vec<TopicDef> {
    Topic::ALL
        .iter()
        .map(|t| TopicDef { code: t.code().to_owned(), label: t.label_ja().to_owned(), retired: false })
        .collect()
}

/// A row of the topics form: an existing topic (its code) or a new one (no code).
#[derive(Debug, Clone, Default)]
pub struct TopicRow<'a> {
    pub code: &'a str,
    pub label: &'a str,
    pub retired: bool,
}

/// Parses a municipality's topic list. Existing topics keep their codes (a
/// row may rename or retire one, never drop it); new rows get `new_code()`;
/// a blank new row is skipped. Labels are unique; one topic at least is offered.
pub fn parse_topics(
    rows: &[TopicRow<'_>],
    current: &[TopicDef],
    mut new_code: impl FnMut() -> String,
) -> Result<Vec<TopicDef>, ValidationError> {
    let mut out: Vec<TopicDef> = Vec::new();
    for row in rows {
        let code = row.code.trim();
        if code.is_empty() && row.label.trim().is_empty() {
            continue;
        }
        if !code.is_empty() && !current.iter().any(|t| t.code == code) {
            return Err(ValidationError::new("topics", "unknown"));
        }
        let label = text::required("label", row.label, 40)?;
        if out.iter().any(|t| t.label == label) {
            return Err(ValidationError::new("label", "twice"));
        }
        let code = if code.is_empty() { new_code() } else { code.to_owned() };
        if out.iter().any(|t| t.code == code) {
            return Err(ValidationError::new("topics", "unknown"));
        }
        out.push(TopicDef { code, label, retired: row.retired });
    }
    let dropped: Vec<&TopicDef> = current.iter().filter(|c| !out.iter().any(|t| t.code == c.code)).collect();
    for kept in dropped {
        if out.iter().any(|t| t.label == kept.label) {
            return Err(ValidationError::new("label", "twice"));
        }
        out.push(kept.clone());
    }
    if out.iter().all(|t| t.retired) {
        return Err(ValidationError::new("topics", "required"));
    }
    Ok(out)
}

coded_enum!(
    /// How soon the centre must answer.
    Urgency {
        Routine = "routine", "通常", "Routine";
        Soon = "soon", "急ぎ（数日以内）", "Soon (within days)";
        Today = "today", "至急（今日中）", "Today";
    }
);

coded_enum!(
    /// How a case ended.
    CaseOutcome {
        TeamFound = "team_found", "在宅医療・介護チームにつないだ", "Connected to a home-care team";
        Referred = "referred", "他の機関を紹介した", "Referred elsewhere";
        InformationGiven = "information_given", "情報提供で終了", "Information given";
        Admitted = "admitted", "入院・入所となった", "Admitted to hospital or a facility";
        Withdrawn = "withdrawn", "相談の取り下げ", "Withdrawn";
        Died = "died", "ご逝去", "The person died";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// A line of a case's log.
    ContactKind {
        Phone = "phone", "電話", "Phone";
        Visit = "visit", "面談・訪問", "Meeting or visit";
        Email = "email", "メール", "E-mail";
        Note = "note", "メモ", "Note";
        State = "state", "状態の変更", "State changed";
    }
);

impl ContactKind {
    /// The kinds a person writes (state changes are logged by the system).
    pub const WRITTEN: &'static [ContactKind] =
        &[ContactKind::Phone, ContactKind::Visit, ContactKind::Email, ContactKind::Note];
}

coded_enum!(
    /// A seat of the home-care team the centre fills.
    Seat {
        PrimaryPhysician = "primary_physician", "在宅医（主治医）", "Home doctor";
        VisitingNurse = "visiting_nurse", "訪問看護", "Visiting nurse";
        CareManager = "care_manager", "ケアマネジャー", "Care manager";
        Pharmacist = "pharmacist", "薬局（訪問薬剤管理）", "Pharmacy";
    }
);

impl Seat {
    /// The kinds of facility that fill this seat.
    pub fn facility_kinds(self) -> &'static [FacilityKind] {
        match self {
            Seat::PrimaryPhysician => &[FacilityKind::Clinic, FacilityKind::Hospital],
            Seat::VisitingNurse => &[FacilityKind::HomeNursingStation],
            Seat::CareManager => &[FacilityKind::CareManagementOffice],
            Seat::Pharmacist => &[FacilityKind::Pharmacy],
        }
    }

    /// The role the person who accepts takes in the care team.
    pub fn team_role(self) -> TeamRole {
        match self {
            Seat::PrimaryPhysician => TeamRole::PrimaryPhysician,
            Seat::VisitingNurse => TeamRole::VisitingNurse,
            Seat::CareManager => TeamRole::CareManager,
            Seat::Pharmacist => TeamRole::Pharmacist,
        }
    }

    /// The seats a team cannot start without (a pharmacy joins when needed).
    pub const REQUIRED: &'static [Seat] = &[Seat::PrimaryPhysician, Seat::VisitingNurse, Seat::CareManager];
}

coded_enum!(
    /// Why a candidate declined.
    DeclineReason {
        NoCapacity = "no_capacity", "受け入れ枠がない", "No capacity";
        OutOfArea = "out_of_area", "訪問エリアの外", "Outside our area";
        CareNotProvided = "care_not_provided", "必要な処置に対応できない", "Cannot provide the care needed";
        Staffing = "staffing", "人員が足りない", "Not enough staff";
        Other = "other", "その他", "Other";
    }
);

/// Where a candidate's answer stands. A request not answered by its deadline
/// counts as declined ("no answer"), and is shown so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Waiting,
    Accepted,
    Declined(DeclineReason),
    NoAnswer,
}

impl Answer {
    /// Reads a stored answer; `overdue` says the deadline has passed.
    pub fn of(accepted: Option<bool>, reason: Option<DeclineReason>, overdue: bool) -> Answer {
        match accepted {
            Some(true) => Answer::Accepted,
            Some(false) => Answer::Declined(reason.unwrap_or(DeclineReason::Other)),
            None if overdue => Answer::NoAnswer,
            None => Answer::Waiting,
        }
    }

    pub fn is_open(self) -> bool {
        self == Answer::Waiting
    }
}

/// Text from outside (the public form) carries no markup: it is shown
/// escaped anyway, but someone pasting tags is a bot or a test of us.
fn no_markup(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!') {
            return Err(ValidationError::new(field, "markup"));
        }
    }
    Ok(())
}

/// The consultation form as typed (by the desk, or by a citizen on the public form).
#[derive(Debug, Clone, Default)]
pub struct ConsultationForm<'a> {
    pub channel: &'a str,
    pub requester_kind: &'a str,
    pub requester_name: &'a str,
    pub requester_contact: &'a str,
    pub subject_name: &'a str,
    pub subject_area: &'a str,
    pub topics: Vec<&'a str>,
    pub urgency: &'a str,
    pub summary: &'a str,
}

/// A consultation ready to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Consultation {
    pub channel: Channel,
    pub requester_kind: RequesterKind,
    pub requester_name: String,
    pub requester_contact: Option<String>,
    /// Whom it is about, when not the requester.
    pub subject_name: Option<String>,
    /// Where they live (town or district), for the reports' areas.
    pub subject_area: Option<String>,
    /// Codes of the municipality's topics.
    pub topics: Vec<String>,
    pub urgency: Urgency,
    pub summary: String,
}

impl Consultation {
    /// The desk's form: any channel but a discharge request (those come from
    /// hospitals); topics among those `offered` (retired ones are not).
    pub fn parse(form: &ConsultationForm<'_>, offered: &[TopicDef]) -> Result<Self, ValidationError> {
        let channel = Channel::parse(form.channel).map_err(|_| ValidationError::new("channel", "unknown"))?;
        if channel == Channel::DischargeRequest {
            return Err(ValidationError::new("channel", "unknown"));
        }
        Self::parse_fields(channel, form, offered)
    }

    /// The public form: no account, no markup, a way to call back.
    pub fn parse_public(form: &ConsultationForm<'_>, offered: &[TopicDef]) -> Result<Self, ValidationError> {
        let parsed = Self::parse_fields(Channel::WebForm, form, offered)?;
        for (field, value) in [
            ("requester_name", form.requester_name),
            ("requester_contact", form.requester_contact),
            ("subject_name", form.subject_name),
            ("subject_area", form.subject_area),
            ("summary", form.summary),
        ] {
            no_markup(field, value)?;
        }
        if parsed.requester_contact.is_none() {
            return Err(ValidationError::new("requester_contact", "required"));
        }
        if parsed.requester_kind == RequesterKind::Hospital {
            // Hospitals send discharge requests signed in, with the handover.
            return Err(ValidationError::new("requester_kind", "unknown"));
        }
        Ok(parsed)
    }

    fn parse_fields(
        channel: Channel,
        form: &ConsultationForm<'_>,
        offered: &[TopicDef],
    ) -> Result<Self, ValidationError> {
        let mut topics: Vec<String> = Vec::new();
        for code in &form.topics {
            let topic = offered
                .iter()
                .find(|t| t.code == *code && !t.retired)
                .ok_or(ValidationError::new("topics", "unknown"))?;
            if !topics.contains(&topic.code) {
                topics.push(topic.code.clone());
            }
        }
        if topics.is_empty() {
            return Err(ValidationError::new("topics", "required"));
        }
        Ok(Self {
            channel,
            requester_kind: RequesterKind::parse(form.requester_kind)
                .map_err(|_| ValidationError::new("requester_kind", "unknown"))?,
            requester_name: text::required("requester_name", form.requester_name, 60)?,
            requester_contact: text::optional("requester_contact", form.requester_contact, 100)?,
            subject_name: text::optional("subject_name", form.subject_name, 60)?,
            subject_area: text::optional("subject_area", form.subject_area, 60)?,
            topics,
            urgency: if form.urgency.trim().is_empty() {
                Urgency::Routine
            } else {
                Urgency::parse(form.urgency).map_err(|_| ValidationError::new("urgency", "unknown"))?
            },
            summary: text::optional_multiline("summary", form.summary, 4000)?
                .ok_or(ValidationError::new("summary", "required"))?,
        })
    }
}

/// The patient's details as the hospital typed them, kept as text so that
/// they are parsed again (by [`PatientDetails::parse`]) when the patient is
/// created: one validation, no retyping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientFields {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub birth_date: String,
    pub sex: String,
    pub address: String,
    pub daily_living_area: String,
    pub phone: String,
    pub key_person: String,
    pub key_person_phone: String,
    pub care_level: String,
    pub main_diagnoses: String,
    pub allergies: String,
    pub special_care: Vec<String>,
}

impl PatientFields {
    pub fn form(&self) -> PatientForm<'_> {
        PatientForm {
            family_name: &self.family_name,
            given_name: &self.given_name,
            family_name_kana: &self.family_name_kana,
            given_name_kana: &self.given_name_kana,
            birth_date: &self.birth_date,
            sex: &self.sex,
            address: &self.address,
            daily_living_area: &self.daily_living_area,
            phone: &self.phone,
            key_person: &self.key_person,
            key_person_phone: &self.key_person_phone,
            care_level: &self.care_level,
            main_diagnoses: &self.main_diagnoses,
            allergies: &self.allergies,
            special_care: self.special_care.iter().map(String::as_str).collect(),
        }
    }

    /// Whether a special-care code is ticked (for the forms).
    pub fn has_care(&self, code: &str) -> bool {
        self.special_care.iter().any(|c| c == code)
    }

    /// The fields of parsed details (normalised: what is stored is what was accepted).
    fn of(d: &PatientDetails) -> Self {
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            family_name: d.family_name.clone(),
            given_name: d.given_name.clone(),
            family_name_kana: d.family_name_kana.clone(),
            given_name_kana: d.given_name_kana.clone(),
            birth_date: d.birth_date.to_string(),
            sex: d.sex.code().to_owned(),
            address: d.address.clone(),
            daily_living_area: or_empty(&d.daily_living_area),
            phone: or_empty(&d.phone),
            key_person: or_empty(&d.key_person),
            key_person_phone: or_empty(&d.key_person_phone),
            care_level: d.care_level.code().to_owned(),
            main_diagnoses: or_empty(&d.main_diagnoses),
            allergies: or_empty(&d.allergies),
            special_care: d.special_care.iter().map(|c| c.code().to_owned()).collect(),
        }
    }
}

/// The discharge request's form beyond the patient's details.
#[derive(Debug, Clone, Default)]
pub struct HandoverForm<'a> {
    pub planned_discharge_on: &'a str,
    pub medications: &'a str,
    pub adl: &'a str,
    pub family_situation: &'a str,
    pub family_care_skills: &'a str,
    pub place_of_care: &'a str,
    pub place_of_death: &'a str,
    pub needed_services: Vec<&'a str>,
    pub note: &'a str,
}

/// What a hospital hands over for a patient going home (入退院支援): the
/// patient's details, the planned discharge, and what the team must know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handover {
    pub patient: PatientFields,
    pub planned_discharge_on: Date,
    pub medications: Option<String>,
    /// 日常生活動作: moving, eating, toilet, bathing.
    pub adl: Option<String>,
    pub family_situation: Option<String>,
    pub family_care_skills: Option<String>,
    /// Codes of [`Place`]: where the patient and family wish to live, and to die.
    pub place_of_care: Option<String>,
    pub place_of_death: Option<String>,
    /// Codes of [`FacilityService`] the team must provide.
    pub needed_services: Vec<String>,
    pub note: Option<String>,
}

impl Handover {
    /// `today` bounds the dates: a discharge is planned for today or later
    /// (up to half a year ahead), the birth date as for any patient.
    pub fn parse(patient: &PatientForm<'_>, form: &HandoverForm<'_>, today: Date) -> Result<Self, ValidationError> {
        let details = PatientDetails::parse(patient, today)?;
        let planned = parse_date("planned_discharge_on", form.planned_discharge_on)?;
        if planned < today || (planned - today).whole_days() > 183 {
            return Err(ValidationError::new("planned_discharge_on", "implausible"));
        }
        let place = |field: &'static str, raw: &str| -> Result<Option<String>, ValidationError> {
            match raw.trim() {
                "" => Ok(None),
                code => Place::parse(code)
                    .map(|p| Some(p.code().to_owned()))
                    .map_err(|_| ValidationError::new(field, "unknown")),
            }
        };
        let mut needed = Vec::new();
        for code in &form.needed_services {
            let s = FacilityService::parse(code).map_err(|_| ValidationError::new("needed_services", "unknown"))?;
            if !needed.contains(&s.code().to_owned()) {
                needed.push(s.code().to_owned());
            }
        }
        Ok(Self {
            patient: PatientFields::of(&details),
            planned_discharge_on: planned,
            medications: text::optional_multiline("medications", form.medications, 2000)?,
            adl: text::optional_multiline("adl", form.adl, 1000)?,
            family_situation: text::optional_multiline("family_situation", form.family_situation, 1000)?,
            family_care_skills: text::optional_multiline("family_care_skills", form.family_care_skills, 1000)?,
            place_of_care: place("place_of_care", form.place_of_care)?,
            place_of_death: place("place_of_death", form.place_of_death)?,
            needed_services: needed,
            note: text::optional_multiline("note", form.note, 2000)?,
        })
    }

    pub fn needed_services(&self) -> Vec<FacilityService> {
        self.needed_services.iter().filter_map(|c| FacilityService::parse(c).ok()).collect()
    }

    pub fn place_of_care(&self) -> Option<Place> {
        self.place_of_care.as_deref().and_then(|c| Place::parse(c).ok())
    }

    pub fn place_of_death(&self) -> Option<Place> {
        self.place_of_death.as_deref().and_then(|c| Place::parse(c).ok())
    }

    /// The handover as the first entry of the patient's timeline.
    pub fn as_entry_text(&self, from: &str) -> String {
        let mut out = format!("【退院時の引き継ぎ】{from}より\n退院予定日: {}\n", self.planned_discharge_on);
        let mut line = |label: &str, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                out.push_str(&format!("■{label}\n{v}\n"));
            }
        };
        line("主な病名", Some(&self.patient.main_diagnoses));
        line("アレルギー", Some(&self.patient.allergies));
        line("内服薬", self.medications.as_deref());
        line("ADL", self.adl.as_deref());
        line("家族の状況", self.family_situation.as_deref());
        line("家族の介護力", self.family_care_skills.as_deref());
        let wishes = [
            self.place_of_care().map(|p| format!("療養の場所: {}", p.label_ja())),
            self.place_of_death().map(|p| format!("最期を迎えたい場所: {}", p.label_ja())),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("、");
        line("本人・家族の希望", Some(&wishes));
        let services = self.needed_services().iter().map(|s| s.label_ja()).collect::<Vec<_>>().join("、");
        line("必要な医療・サービス", Some(&services));
        line("その他", self.note.as_deref());
        out.trim_end().to_owned()
    }
}

/// A task of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDraft {
    pub title: String,
    pub due_on: Option<Date>,
}

impl TaskDraft {
    pub fn parse(title: &str, due_on: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            title: text::required("title", title, 200)?,
            due_on: if due_on.trim().is_empty() { None } else { Some(parse_date("due_on", due_on)?) },
        })
    }
}

/// A line of a case's contact log, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDraft {
    pub kind: ContactKind,
    pub note: String,
}

impl ContactDraft {
    pub fn parse(kind: &str, note: &str) -> Result<Self, ValidationError> {
        let kind = ContactKind::parse(kind)
            .ok()
            .filter(|k| ContactKind::WRITTEN.contains(k))
            .ok_or(ValidationError::new("kind", "unknown"))?;
        Ok(Self {
            kind,
            note: text::optional_multiline("note", note, 2000)?.ok_or(ValidationError::new("note", "required"))?,
        })
    }
}

/// Closing a case: an outcome, and a reason if tasks are still open.
#[derive(Debug, Clone, PartialEq)]
pub struct Closing {
    pub outcome: CaseOutcome,
    pub note: Option<String>,
}

impl Closing {
    pub fn parse(outcome: &str, note: &str, open_tasks: usize) -> Result<Self, ValidationError> {
        let outcome = CaseOutcome::parse(outcome).map_err(|_| ValidationError::new("outcome", "unknown"))?;
        let note = text::optional_multiline("closing_note", note, 2000)?;
        if open_tasks > 0 && note.is_none() {
            return Err(ValidationError::new("closing_note", "open_tasks"));
        }
        Ok(Self { outcome, note })
    }
}

/// The answer a candidate gives.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateAnswer {
    pub accepted: bool,
    pub reason: Option<DeclineReason>,
    pub note: Option<String>,
}

impl CandidateAnswer {
    pub fn parse(answer: &str, reason: &str, note: &str) -> Result<Self, ValidationError> {
        let note = text::optional_multiline("note", note, 1000)?;
        match answer {
            "accept" => Ok(Self { accepted: true, reason: None, note }),
            "decline" => {
                let reason = DeclineReason::parse(reason).map_err(|_| ValidationError::new("reason", "required"))?;
                if reason == DeclineReason::Other && note.is_none() {
                    return Err(ValidationError::new("note", "required"));
                }
                Ok(Self { accepted: false, reason: Some(reason), note })
            }
            _ => Err(ValidationError::new("answer", "unknown")),
        }
    }
}

/// What the ranking knows of a facility that could fill a seat.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateFacts<K> {
    pub key: K,
    pub location: Option<Location>,
    pub services: Vec<FacilityService>,
    pub accepting: Option<Accepting>,
    /// Patients at home whose team has someone of this facility.
    pub active_patients: i64,
}

/// A candidate in ranked order, with what the desk is shown about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked<K> {
    pub key: K,
    pub distance_m: Option<f64>,
    /// The needed services the facility does not list.
    pub missing: Vec<FacilityService>,
    pub accepting: Option<Accepting>,
    pub active_patients: i64,
}

/// Distances within one band count as equally near, so that a less busy
/// facility a few hundred metres further comes first.
const DISTANCE_BAND_M: f64 = 2_000.0;
/// Beyond this, a facility is not suggested (a home visit's practical reach).
pub const MAX_DISTANCE_M: f64 = 16_000.0;

/// Ranks candidates for one seat: those not accepting new patients are left
/// out; then fewest needed services missing first, then "accepting" before
/// "ask first" before "not said", then nearer (by 2 km bands), then less
/// busy, then nearer exactly. Without a home location, distance is ignored;
/// a facility without a location comes after the located ones of its rank.
pub fn rank_candidates<K: Clone>(
    home: Option<Location>,
    needs: &[FacilityService],
    candidates: &[CandidateFacts<K>],
) -> Vec<Ranked<K>> {
    let mut ranked: Vec<Ranked<K>> = candidates
        .iter()
        .filter(|c| c.accepting != Some(Accepting::No))
        .map(|c| Ranked {
            key: c.key.clone(),
            distance_m: home.zip(c.location).map(|(h, l)| h.distance_m(&l)),
            missing: needs.iter().copied().filter(|n| !c.services.contains(n)).collect(),
            accepting: c.accepting,
            active_patients: c.active_patients,
        })
        .filter(|r| r.distance_m.is_none_or(|d| d <= MAX_DISTANCE_M))
        .collect();
    let accepting_rank = |a: Option<Accepting>| match a {
        Some(Accepting::Yes) => 0,
        Some(Accepting::Limited) => 1,
        _ => 2,
    };
    let band = |d: Option<f64>| d.map_or(u64::MAX, |d| (d / DISTANCE_BAND_M).floor() as u64);
    ranked.sort_by(|a, b| {
        a.missing
            .len()
            .cmp(&b.missing.len())
            .then(accepting_rank(a.accepting).cmp(&accepting_rank(b.accepting)))
            .then(band(a.distance_m).cmp(&band(b.distance_m)))
            .then(a.active_patients.cmp(&b.active_patients))
            .then(a.distance_m.unwrap_or(f64::MAX).total_cmp(&b.distance_m.unwrap_or(f64::MAX)))
    });
    ranked
}

/// The town of an address: the address up to its first number (full-width
/// digits folded), e.g. 千葉県柏市豊四季 of 千葉県柏市豊四季1-2-3. What a
/// candidate and the reports are told instead of the address.
pub fn town_of(address: &str) -> Option<String> {
    let folded = text::fold_full_width_ascii(address);
    let town = folded.chars().take_while(|c| !c.is_ascii_digit()).collect::<String>().trim().to_owned();
    (!town.is_empty()).then_some(town)
}

/// Where a home roughly is, from its address alone (no geocoder runs
/// offline): the middle of the registry's located facilities whose address
/// shares the longest beginning with it, if that beginning reaches past the
/// municipality into the town (its first digit, or at least three characters
/// after 市・区・町・村). Returns the point and the shared beginning (the town
/// the estimate stands for).
pub fn estimate_home<'a>(
    address: &str,
    known: impl IntoIterator<Item = (&'a str, Location)>,
) -> Option<(Location, String)> {
    let norm =
        |a: &str| -> Vec<char> { text::fold_full_width_ascii(a).chars().filter(|c| !c.is_whitespace()).collect() };
    let home = norm(address);
    // The town part: up to the first digit, or the whole address.
    let town_end = home.iter().position(|c| c.is_ascii_digit()).unwrap_or(home.len());
    let city_end =
        home.iter().take(town_end).rposition(|c| matches!(c, '市' | '区' | '町' | '村')).map_or(0, |i| i + 1);
    let needed = (city_end + 2).min(town_end).max(1);
    // Facilities of the very same town first; then the longest shared beginning.
    let mut best = (false, 0usize);
    let mut points: Vec<Location> = Vec::new();
    for (other, location) in known {
        let other = norm(other);
        let other_town = other.iter().position(|c| c.is_ascii_digit()).unwrap_or(other.len());
        let shared = home.iter().zip(other.iter()).take(town_end).take_while(|(a, b)| a == b).count();
        if shared < needed {
            continue;
        }
        let score = (shared == town_end && other_town == town_end, shared);
        if score > best {
            best = score;
            points.clear();
        }
        if score == best {
            points.push(location);
        }
    }
    if points.is_empty() {
        return None;
    }
    let n = points.len() as f64;
    let latitude = points.iter().map(|p| p.latitude).sum::<f64>() / n;
    let longitude = points.iter().map(|p| p.longitude).sum::<f64>() / n;
    Some((Location { latitude, longitude }, home.iter().take(best.1).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const HOME: Location = Location { latitude: 35.8676, longitude: 139.9757 };

    /// A point `km` kilometres north of home.
    fn north(km: f64) -> Option<Location> {
        Some(Location { latitude: HOME.latitude + km / 111.2, longitude: HOME.longitude })
    }

    fn facts(
        key: &'static str,
        km: f64,
        services: &[FacilityService],
        accepting: Option<Accepting>,
        load: i64,
    ) -> CandidateFacts<&'static str> {
        CandidateFacts { key, location: north(km), services: services.to_vec(), accepting, active_patients: load }
    }

    fn order(ranked: &[Ranked<&'static str>]) -> Vec<&'static str> {
        ranked.iter().map(|r| r.key).collect()
    }

    use FacilityService as S;

    #[test]
    fn a_home_is_placed_among_the_facilities_of_its_town() {
        let a = Location { latitude: 35.86, longitude: 139.95 };
        let b = Location { latitude: 35.88, longitude: 139.97 };
        let elsewhere = Location { latitude: 35.90, longitude: 139.99 };
        let known = [("千葉県柏市豊四季１２３", a), ("千葉県柏市豊四季台1-1", b), ("千葉県柏市柏の葉5-1", elsewhere)];
        let (at, town) = estimate_home("千葉県柏市豊四季1-2-3", known).expect("the town is known");
        assert_eq!((at, town.as_str()), (a, "千葉県柏市豊四季"), "豊四季台 is another town");
        let (at, town) = estimate_home("千葉県柏市豊四季台2-2", known).expect("the town is known");
        assert_eq!((at, town.as_str()), (b, "千葉県柏市豊四季台"));
        // No facility in the town itself: those sharing the longest beginning.
        let (at, town) = estimate_home("千葉県柏市豊四季西5", known).expect("near enough");
        assert_eq!(town, "千葉県柏市豊四季");
        assert!((at.latitude - 35.87).abs() < 1e-9, "between 豊四季 and 豊四季台: {at:?}");
        // Sharing only the city says nothing about where in it.
        assert_eq!(estimate_home("千葉県柏市大室1-1", known), None);
        assert_eq!(estimate_home("東京都港区1-1", known), None);
    }

    #[test]
    fn a_municipality_renames_retires_and_adds_topics_but_drops_none() {
        let current = default_topics();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("own-{n}")
        };
        let rows = [
            TopicRow { code: "costs", label: "費用・制度", retired: false },
            TopicRow { code: "dementia", label: "認知症", retired: true },
            TopicRow { code: "", label: "難病", retired: false },
            TopicRow { code: "", label: " ", retired: false },
        ];
        let list = parse_topics(&rows, &current, &mut next).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(list.len(), current.len() + 1, "nothing dropped, one added");
        assert_eq!(list.iter().find(|t| t.code == "costs").map(|t| t.label.as_str()), Some("費用・制度"));
        assert!(list.iter().any(|t| t.code == "dementia" && t.retired));
        assert!(list.iter().any(|t| t.code == "own-1" && t.label == "難病"));
        // A retired topic is not offered on a form any more.
        let form = ConsultationForm { topics: vec!["dementia"], ..public_form() };
        assert_eq!(Consultation::parse_public(&form, &list).err(), Some(ValidationError::new("topics", "unknown")));
        let twice = [
            TopicRow { code: "", label: "費用", retired: false },
            TopicRow { code: "", label: "費用", retired: false },
        ];
        assert_eq!(parse_topics(&twice, &current, &mut next).err(), Some(ValidationError::new("label", "twice")));
        let stranger = [TopicRow { code: "made_up", label: "x", retired: false }];
        assert_eq!(parse_topics(&stranger, &current, &mut next).err(), Some(ValidationError::new("topics", "unknown")));
        let none: Vec<TopicRow<'_>> =
            current.iter().map(|t| TopicRow { code: &t.code, label: &t.label, retired: true }).collect();
        assert_eq!(parse_topics(&none, &current, &mut next).err(), Some(ValidationError::new("topics", "required")));
    }

    #[test]
    fn nearer_comes_first_among_equals() {
        let c = [
            facts("far", 9.0, &[], Some(Accepting::Yes), 3),
            facts("near", 0.5, &[], Some(Accepting::Yes), 3),
            facts("middle", 4.5, &[], Some(Accepting::Yes), 3),
        ];
        let ranked = rank_candidates(Some(HOME), &[], &c);
        assert_eq!(order(&ranked), ["near", "middle", "far"]);
        let near = ranked[0].distance_m.unwrap_or_default();
        assert!((400.0..600.0).contains(&near), "{near}");
    }

    #[test]
    fn a_facility_lacking_a_needed_service_ranks_below_one_that_has_it() {
        let c = [
            facts("near_without_oxygen", 0.3, &[S::ScheduledHomeVisit], Some(Accepting::Yes), 0),
            facts("far_with_oxygen", 8.0, &[S::ScheduledHomeVisit, S::HomeOxygen], Some(Accepting::Yes), 10),
        ];
        let ranked = rank_candidates(Some(HOME), &[S::HomeOxygen], &c);
        assert_eq!(order(&ranked), ["far_with_oxygen", "near_without_oxygen"]);
        assert_eq!(ranked[1].missing, vec![S::HomeOxygen]);
        assert!(ranked[0].missing.is_empty());
    }

    #[test]
    fn not_accepting_is_left_out_and_accepting_comes_before_ask_first() {
        let c = [
            facts("closed", 0.1, &[], Some(Accepting::No), 0),
            facts("unsaid", 0.2, &[], None, 0),
            facts("ask_first", 0.3, &[], Some(Accepting::Limited), 0),
            facts("open", 0.4, &[], Some(Accepting::Yes), 0),
        ];
        assert_eq!(order(&rank_candidates(Some(HOME), &[], &c)), ["open", "ask_first", "unsaid"]);
    }

    #[test]
    fn the_less_busy_comes_first_within_the_same_distance_band() {
        let c = [
            facts("busy", 0.2, &[], Some(Accepting::Yes), 40),
            facts("quiet", 1.5, &[], Some(Accepting::Yes), 5),
            facts("quiet_but_far", 5.0, &[], Some(Accepting::Yes), 0),
        ];
        assert_eq!(order(&rank_candidates(Some(HOME), &[], &c)), ["quiet", "busy", "quiet_but_far"]);
    }

    #[test]
    fn too_far_is_not_suggested_and_unlocated_ones_come_last() {
        let mut unlocated = facts("unlocated", 0.0, &[], Some(Accepting::Yes), 0);
        unlocated.location = None;
        let c = [
            facts("other_city", 40.0, &[], Some(Accepting::Yes), 0),
            unlocated,
            facts("near", 3.0, &[], Some(Accepting::Yes), 9),
        ];
        assert_eq!(order(&rank_candidates(Some(HOME), &[], &c)), ["near", "unlocated"]);
        // Without the home's location, distance says nothing: load decides.
        assert_eq!(order(&rank_candidates(None, &[], &c)), ["other_city", "unlocated", "near"]);
    }

    #[test]
    fn states_move_forward_reopen_but_never_back_to_new_or_closed_by_hand() {
        use CaseState::*;
        assert!(New.may_move_to(InProgress));
        assert!(InProgress.may_move_to(Coordinating));
        assert!(Coordinating.may_move_to(InProgress));
        assert!(Closed.may_move_to(InProgress));
        assert!(!Closed.may_move_to(Coordinating));
        assert!(!InProgress.may_move_to(New));
        assert!(!InProgress.may_move_to(Closed), "closing needs an outcome");
        assert!(!InProgress.may_move_to(InProgress));
    }

    #[test]
    fn a_case_with_open_tasks_closes_only_with_a_reason() {
        assert_eq!(Closing::parse("team_found", "", 2).err(), Some(ValidationError::new("closing_note", "open_tasks")));
        assert!(Closing::parse("team_found", "残りは担当ケアマネに引き継ぎ", 2).is_ok());
        assert!(Closing::parse("information_given", "", 0).is_ok());
        assert_eq!(Closing::parse("solved", "", 0).err(), Some(ValidationError::new("outcome", "unknown")));
    }

    fn public_form() -> ConsultationForm<'static> {
        ConsultationForm {
            requester_kind: "family",
            requester_name: "柏 一郎",
            requester_contact: "04-7100-0000",
            topics: vec!["find_home_doctor", "find_home_doctor", "costs"],
            summary: "父が来月退院します。往診してくれる先生を探しています。",
            ..ConsultationForm::default()
        }
    }

    #[test]
    fn the_public_form_takes_no_markup_and_needs_a_way_to_call_back() {
        let topics = default_topics();
        let ok = Consultation::parse_public(&public_form(), &topics).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(ok.channel, Channel::WebForm);
        assert_eq!(ok.topics, vec!["find_home_doctor".to_owned(), "costs".to_owned()]);
        assert_eq!(ok.urgency, Urgency::Routine);
        let tagged = ConsultationForm { summary: "<a href=x>安い</a>", ..public_form() };
        assert_eq!(Consultation::parse_public(&tagged, &topics).err(), Some(ValidationError::new("summary", "markup")));
        // A less-than sign in prose is not markup.
        let prose = ConsultationForm { summary: "熱が38度 < 39度くらい", ..public_form() };
        assert!(Consultation::parse_public(&prose, &topics).is_ok());
        let anonymous = ConsultationForm { requester_contact: " ", ..public_form() };
        assert_eq!(
            Consultation::parse_public(&anonymous, &topics).err(),
            Some(ValidationError::new("requester_contact", "required"))
        );
        let no_topic = ConsultationForm { topics: vec![], ..public_form() };
        assert_eq!(
            Consultation::parse_public(&no_topic, &topics).err(),
            Some(ValidationError::new("topics", "required"))
        );
        // The desk may not pretend a phone call was a hospital's request.
        let desk = ConsultationForm { channel: "discharge_request", ..public_form() };
        assert_eq!(Consultation::parse(&desk, &topics).err(), Some(ValidationError::new("channel", "unknown")));
    }

    fn patient() -> PatientForm<'static> {
        PatientForm {
            family_name: "流山",
            given_name: "一郎",
            family_name_kana: "ナガレヤマ",
            given_name_kana: "イチロウ",
            birth_date: "1940-05-05",
            sex: "male",
            address: "千葉県柏市豊四季1-2-3",
            care_level: "applying",
            main_diagnoses: "肺がん（骨転移）",
            special_care: vec!["home_oxygen"],
            ..PatientForm::default()
        }
    }

    #[test]
    fn a_handover_keeps_the_patient_as_parsed() {
        let today = date!(2026 - 12 - 08);
        let form = HandoverForm {
            planned_discharge_on: "2026-12-20",
            medications: "オキシコドン徐放錠 10mg 1日2回",
            place_of_care: "home",
            place_of_death: "home",
            needed_services: vec!["home_oxygen", "palliative_opioids", "home_oxygen"],
            ..HandoverForm::default()
        };
        let h = Handover::parse(&patient(), &form, today).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(h.needed_services(), vec![S::HomeOxygen, S::PalliativeOpioids]);
        // What is kept parses again into the same patient.
        let again = PatientDetails::parse(&h.patient.form(), today).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(again, PatientDetails::parse(&patient(), today).unwrap_or_else(|e| unreachable!("{e}")));
        let text = h.as_entry_text("柏の葉病院 地域連携室");
        assert!(text.contains("最期を迎えたい場所: 自宅"), "{text}");
        assert!(text.contains("在宅酸素"), "{text}");
        let past = HandoverForm { planned_discharge_on: "2026-12-01", ..form.clone() };
        assert_eq!(
            Handover::parse(&patient(), &past, today).err(),
            Some(ValidationError::new("planned_discharge_on", "implausible"))
        );
        let bad_patient = PatientForm { family_name_kana: "流山", ..patient() };
        assert_eq!(
            Handover::parse(&bad_patient, &form, today).err(),
            Some(ValidationError::new("family_name_kana", "kana_only"))
        );
    }

    #[test]
    fn a_decline_needs_a_reason_and_other_needs_words() {
        assert!(CandidateAnswer::parse("accept", "", "").is_ok_and(|a| a.accepted));
        assert_eq!(CandidateAnswer::parse("decline", "", "").err(), Some(ValidationError::new("reason", "required")));
        assert_eq!(
            CandidateAnswer::parse("decline", "other", "").err(),
            Some(ValidationError::new("note", "required"))
        );
        assert!(CandidateAnswer::parse("decline", "out_of_area", "").is_ok());
        assert_eq!(Answer::of(None, None, true), Answer::NoAnswer);
        assert_eq!(
            Answer::of(Some(false), Some(DeclineReason::Staffing), true),
            Answer::Declined(DeclineReason::Staffing)
        );
    }
}
