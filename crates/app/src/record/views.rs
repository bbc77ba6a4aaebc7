//! What a patient's record looks like to its readers: the views the use cases
//! return (the pages, the JSON API and FHIR build on them).

use crate::AppError;
use time::{Date, OffsetDateTime};
use tsunagu_domain::account::Profession;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::care::{Audience, EntryKind, TeamRole, VitalSigns};
use tsunagu_domain::patient::{CareLevel, PatientStatus, Place, Sex, SpecialCare, TreatmentWish, age};
use tsunagu_domain::policy::ConsentState;
use tsunagu_store::{AcpRow, PatientRow};
use uuid::Uuid;

pub(crate) fn patient_view(r: &PatientRow, today: Date) -> Result<PatientView, AppError> {
    Ok(PatientView {
        id: r.id,
        name: format!("{} {}", r.family_name, r.given_name),
        name_kana: format!("{} {}", r.family_name_kana, r.given_name_kana),
        birth_date: r.birth_date,
        age: age(r.birth_date, today),
        sex: r.sex,
        address: r.address.clone(),
        daily_living_area: r.daily_living_area.clone(),
        phone: r.phone.clone(),
        key_person: r.key_person.clone(),
        key_person_phone: r.key_person_phone.clone(),
        care_level: r.care_level,
        main_diagnoses: r.main_diagnoses.clone(),
        allergies: r.allergies.clone(),
        special_care: r.special_care.split(',').filter_map(|c| SpecialCare::parse(c).ok()).collect(),
        status: r.status,
    })
}

/// A patient as members see them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientView {
    pub id: Uuid,
    pub name: String,
    pub name_kana: String,
    pub birth_date: Date,
    pub age: i32,
    pub sex: Sex,
    pub address: String,
    pub daily_living_area: Option<String>,
    pub phone: Option<String>,
    pub key_person: Option<String>,
    pub key_person_phone: Option<String>,
    pub care_level: CareLevel,
    pub main_diagnoses: Option<String>,
    pub allergies: Option<String>,
    pub special_care: Vec<SpecialCare>,
    pub status: PatientStatus,
}

/// A line of someone's patient list.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientSummary {
    pub patient: PatientView,
    pub consent: ConsentState,
    /// Unread among the newest entries ([`tsunagu_store::UNREAD_WINDOW`]).
    pub unread: i64,
    pub urgent_unacknowledged: i64,
    /// Entries by others that ask for a reply and have none yet.
    pub needs_reply: i64,
    /// Nobody on the team is its primary physician (主治医): the team should find one.
    pub without_primary_physician: bool,
}

impl PatientSummary {
    /// The unread count as a badge shows it: "99+" once the count reaches the
    /// window it is counted in, since older unread entries are not counted.
    pub fn unread_badge(&self) -> String {
        if self.unread >= tsunagu_store::UNREAD_WINDOW {
            format!("{}+", tsunagu_store::UNREAD_WINDOW - 1)
        } else {
            self.unread.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentView {
    pub given_on: Date,
    pub method: String,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub scope: String,
    pub withdrawn_at: Option<OffsetDateTime>,
    /// The entry with the scanned consent form, if one was attached.
    pub document_entry: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamMemberView {
    pub membership_id: Uuid,
    pub account_id: Uuid,
    pub display_name: String,
    pub profession: Option<Profession>,
    pub team_role: Option<TeamRole>,
    pub active: bool,
    pub is_me: bool,
    /// Whether the reader may end this membership (their own, or as a lead of the team).
    pub removable: bool,
    /// Where they work and its phone number (tap to call).
    pub facility_name: Option<String>,
    pub phone: Option<String>,
}

/// An entry on the timeline, as one reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryView {
    pub id: Uuid,
    pub kind: EntryKind,
    pub author_name: String,
    pub author_profession: Option<Profession>,
    pub is_mine: bool,
    pub created_at: OffsetDateTime,
    pub body: String,
    pub vitals: VitalSigns,
    pub corrected: bool,
    pub needs_reply: bool,
    pub reply_to: Option<Uuid>,
    pub audience: Audience,
    pub attachments: Vec<AttachmentView>,
    /// Unread by this reader before this page was shown.
    pub was_unread: bool,
    pub read_count: i64,
    pub acknowledged_by_me: bool,
    pub acknowledgement_count: i64,
    /// Entries that answer this one ("needs reply" is settled once there is one).
    pub reply_count: i64,
    /// Posted by someone who was not on the team then: under an emergency grant (invariant 1).
    pub by_emergency_access: bool,
}

/// An entry with the replies to it that are on the same page, oldest first.
pub type Thread = (EntryView, Vec<EntryView>);

impl EntryView {
    /// The start of the text, to quote it (e.g. "replying to ...").
    pub fn snippet(&self) -> String {
        let text: String = self.body.chars().take(30).collect();
        if self.body.chars().count() > 30 { format!("{text}…") } else { text }
    }
}

/// How the timeline is narrowed, as typed (empty means "any").
#[derive(Debug, Clone, Copy, Default)]
pub struct TimelineQuery<'a> {
    pub kind: &'a str,
    pub text: &'a str,
    pub profession: &'a str,
    /// An author's account id; empty for everyone.
    pub author: &'a str,
    /// YYYY-MM-DD, JST, inclusive.
    pub from: &'a str,
    pub to: &'a str,
    /// Also work out who answers now (the page shows it; the JSON record has its own endpoint).
    pub with_responders: bool,
}

/// One revision of the advance care plan (人生会議).
#[derive(Debug, Clone, PartialEq)]
pub struct AcpView {
    pub discussed_on: Date,
    pub participants: String,
    pub place_of_care: Option<Place>,
    pub place_of_death: Option<Place>,
    pub treatment: Option<TreatmentWish>,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub wishes: Option<String>,
    pub recorder_name: String,
    pub recorded_at: OffsetDateTime,
}

/// A patient's whole record for a period, for printing.
#[derive(Debug, Clone)]
pub struct PrintedRecord {
    pub patient: PatientView,
    pub consent: Option<ConsentView>,
    pub team: Vec<TeamMemberView>,
    pub acp: Option<AcpView>,
    pub from: Date,
    pub to: Date,
    pub entries: Vec<EntryView>,
    /// True when the period held more entries than are printed at once.
    pub truncated: bool,
}

/// Everything on a patient's page.
/// One entry with its history and who has read it.
#[derive(Debug, Clone)]
pub struct EntryDetail {
    pub patient_id: Uuid,
    pub patient_name: String,
    pub entry: EntryView,
    pub versions: Vec<EntryVersionView>,
    pub reads: Vec<(String, OffsetDateTime)>,
    pub acknowledgements: Vec<(String, OffsetDateTime)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntryVersionView {
    pub version: i64,
    pub body: String,
    pub vitals: VitalSigns,
    pub editor_name: String,
    pub edited_at: OffsetDateTime,
    pub reason: Option<String>,
}

/// Someone who can be added to a team.
#[derive(Debug, Clone, PartialEq)]
pub struct Colleague {
    pub login_id: String,
    pub display_name: String,
    pub profession: Option<Profession>,
}

/// A notification as its recipient sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationView {
    pub patient_id: Uuid,
    pub entry_id: Option<Uuid>,
    /// "mention", "urgent" or "team_added".
    pub kind: String,
    pub created_at: OffsetDateTime,
    pub actor_name: String,
    pub patient_name: String,
}

/// An attachment as listed under its entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentView {
    pub id: Uuid,
    pub file_name: String,
    pub is_image: bool,
}

/// Someone who read a patient's record, as the patient and family see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessView {
    /// The audit event's id.
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub who: String,
    pub action: AuditAction,
}

/// A stored revision of the advance care plan as readers see it.
pub(crate) fn acp_view(r: AcpRow) -> AcpView {
    AcpView {
        discussed_on: r.discussed_on,
        participants: r.participants,
        place_of_care: Place::parse(&r.place_of_care).ok(),
        place_of_death: Place::parse(&r.place_of_death).ok(),
        treatment: TreatmentWish::parse(&r.treatment).ok(),
        proxy_name: r.proxy_name,
        proxy_relation: r.proxy_relation,
        wishes: r.wishes,
        recorder_name: r.recorder_name,
        recorded_at: r.recorded_at,
    }
}
