//! The care team around one patient and what they post to its timeline.

use crate::account::Profession;
use crate::{ValidationError, coded_enum, text};
use serde::{Deserialize, Serialize};

coded_enum!(
    /// A member's part in the team.
    TeamRole {
        PrimaryPhysician = "primary_physician", "主治医", "Primary physician";
        BackupPhysician = "backup_physician", "副主治医", "Backup physician";
        VisitingNurse = "visiting_nurse", "訪問看護", "Visiting nurse";
        CareManager = "care_manager", "ケアマネジャー", "Care manager";
        Pharmacist = "pharmacist", "薬剤師", "Pharmacist";
        Dentist = "dentist", "歯科医師", "Dentist";
        DentalHygienist = "dental_hygienist", "歯科衛生士", "Dental hygienist";
        Rehabilitation = "rehabilitation", "リハビリ", "Rehabilitation";
        Dietitian = "dietitian", "管理栄養士", "Dietitian";
        HomeHelper = "home_helper", "訪問介護", "Home helper";
        MedicalSocialWorker = "msw", "MSW（医療ソーシャルワーカー）", "Medical social worker";
        CommunitySupport = "community_support", "地域包括", "Community support center";
        Family = "family", "家族", "Family";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// Kinds of timeline entry.
    EntryKind {
        Message = "message", "連絡", "Message";
        VisitRecord = "visit_record", "訪問記録", "Visit record";
        Vitals = "vitals", "バイタル", "Vital signs";
        MedicationChange = "medication_change", "処方・薬の変更", "Medication change";
        ConditionChange = "condition_change", "状態の変化", "Change in condition";
        Urgent = "urgent", "急変", "Urgent";
    }
);

coded_enum!(
    /// Who an entry is for.
    Audience {
        Team = "team", "チーム内", "The care team";
        WithFamily = "family", "家族にも共有", "The team and the family";
        Physicians = "physicians", "医師のみ", "The physicians only";
    }
);

impl TeamRole {
    pub fn is_physician(self) -> bool {
        matches!(self, TeamRole::PrimaryPhysician | TeamRole::BackupPhysician)
    }

    /// Whether someone of `profession` may hold this role. The role decides
    /// what a member reads (physicians-only entries follow the physician
    /// roles), so it must be the person's own: physician roles for
    /// physicians, each professional role for its professions, the family
    /// role for family accounts only and no professional role for them.
    pub fn fits(self, profession: Profession) -> bool {
        use Profession as P;
        match self {
            TeamRole::PrimaryPhysician | TeamRole::BackupPhysician => profession == P::Physician,
            TeamRole::VisitingNurse => matches!(profession, P::Nurse | P::AssistantNurse | P::PublicHealthNurse),
            TeamRole::CareManager => profession == P::CareManager,
            TeamRole::Pharmacist => profession == P::Pharmacist,
            TeamRole::Dentist => profession == P::Dentist,
            TeamRole::DentalHygienist => profession == P::DentalHygienist,
            TeamRole::Rehabilitation => {
                matches!(profession, P::PhysicalTherapist | P::OccupationalTherapist | P::SpeechTherapist)
            }
            TeamRole::Dietitian => profession == P::Dietitian,
            TeamRole::HomeHelper => matches!(profession, P::HomeHelper | P::CareWorker),
            TeamRole::MedicalSocialWorker => matches!(profession, P::MedicalSocialWorker | P::SocialWorker),
            // 地域包括支援センター: 保健師, 社会福祉士, 主任ケアマネジャー, nurses and the city's staff.
            TeamRole::CommunitySupport => matches!(
                profession,
                P::PublicHealthNurse | P::Nurse | P::SocialWorker | P::CareManager | P::MunicipalOfficer
            ),
            TeamRole::Family => profession == P::Family,
            TeamRole::Other => profession != P::Family,
        }
    }

    /// The roles someone of `profession` may hold, in the catalogue's order (for the form).
    pub fn fitting(profession: Profession) -> impl Iterator<Item = TeamRole> {
        TeamRole::ALL.iter().copied().filter(move |r| *r != TeamRole::Family && r.fits(profession))
    }
}

/// Which audiences a team member in `role` reads (besides their own entries):
/// family members read what is shared with the family; physicians read
/// everything; everyone else reads what is for the team or shared with family.
pub fn visible_audiences(role: Option<TeamRole>) -> &'static [Audience] {
    match role {
        Some(TeamRole::Family) => &[Audience::WithFamily],
        Some(r) if r.is_physician() => &[Audience::Team, Audience::WithFamily, Audience::Physicians],
        _ => &[Audience::Team, Audience::WithFamily],
    }
}

/// Vital signs, every one optional, every one within a range a person can have.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VitalSigns {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub systolic: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diastolic: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulse: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spo2: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respiratory_rate: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blood_glucose: Option<u16>,
    /// Numeric rating scale, 0–10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pain: Option<u8>,
    /// Bowel movements since the last visit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bowel_movements: Option<u8>,
}

/// The raw text of the vitals fields.
#[derive(Debug, Clone, Default)]
pub struct VitalsForm<'a> {
    pub temperature_c: &'a str,
    pub systolic: &'a str,
    pub diastolic: &'a str,
    pub pulse: &'a str,
    pub spo2: &'a str,
    pub respiratory_rate: &'a str,
    pub weight_kg: &'a str,
    pub blood_glucose: &'a str,
    pub pain: &'a str,
    pub bowel_movements: &'a str,
}

fn number<T: std::str::FromStr + PartialOrd>(
    field: &'static str,
    raw: &str,
    min: T,
    max: T,
) -> Result<Option<T>, ValidationError> {
    let folded = text::fold_full_width_ascii(raw.trim());
    if folded.is_empty() {
        return Ok(None);
    }
    let value: T = folded.parse().map_err(|_| ValidationError::new(field, "number"))?;
    // Not `value < min || value > max`: NaN ("NaN" parses as an f64) is neither.
    if !(min..=max).contains(&value) {
        return Err(ValidationError::new(field, "implausible"));
    }
    Ok(Some(value))
}

impl VitalSigns {
    pub fn parse(f: &VitalsForm<'_>) -> Result<Self, ValidationError> {
        let v = Self {
            temperature_c: number("temperature_c", f.temperature_c, 30.0, 43.0)?,
            systolic: number("systolic", f.systolic, 40, 280)?,
            diastolic: number("diastolic", f.diastolic, 20, 180)?,
            pulse: number("pulse", f.pulse, 20, 250)?,
            spo2: number("spo2", f.spo2, 50, 100)?,
            respiratory_rate: number("respiratory_rate", f.respiratory_rate, 4, 60)?,
            weight_kg: number("weight_kg", f.weight_kg, 1.0, 300.0)?,
            blood_glucose: number("blood_glucose", f.blood_glucose, 10, 900)?,
            pain: number("pain", f.pain, 0, 10)?,
            bowel_movements: number("bowel_movements", f.bowel_movements, 0, 20)?,
        };
        match (v.systolic, v.diastolic) {
            (Some(s), Some(d)) if s <= d => return Err(ValidationError::new("diastolic", "not_below_systolic")),
            (Some(_), None) | (None, Some(_)) => return Err(ValidationError::new("diastolic", "both_pressures")),
            _ => {}
        }
        Ok(v)
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// One line for the timeline, e.g. `体温 37.2℃ / 血圧 128/76 / SpO2 96%`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.temperature_c {
            parts.push(format!("体温 {t:.1}℃"));
        }
        if let (Some(s), Some(d)) = (self.systolic, self.diastolic) {
            parts.push(format!("血圧 {s}/{d}"));
        }
        if let Some(p) = self.pulse {
            parts.push(format!("脈拍 {p}"));
        }
        if let Some(s) = self.spo2 {
            parts.push(format!("SpO2 {s}%"));
        }
        if let Some(r) = self.respiratory_rate {
            parts.push(format!("呼吸数 {r}"));
        }
        if let Some(w) = self.weight_kg {
            parts.push(format!("体重 {w:.1}kg"));
        }
        if let Some(g) = self.blood_glucose {
            parts.push(format!("血糖 {g}"));
        }
        if let Some(p) = self.pain {
            parts.push(format!("疼痛 {p}/10"));
        }
        if let Some(b) = self.bowel_movements {
            parts.push(format!("排便 {b}回"));
        }
        parts.join(" / ")
    }
}

/// An entry (or a correction of one) as the author wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryDraft {
    pub kind: EntryKind,
    pub body: String,
    pub vitals: VitalSigns,
    pub needs_reply: bool,
    pub audience: Audience,
}

impl EntryDraft {
    pub fn parse(kind: &str, body: &str, vitals: &VitalsForm<'_>, needs_reply: bool) -> Result<Self, ValidationError> {
        let kind = EntryKind::parse(kind).map_err(|_| ValidationError::new("kind", "unknown"))?;
        let vitals = VitalSigns::parse(vitals)?;
        let body = text::optional_multiline("body", body, 4000)?.unwrap_or_default();
        if body.is_empty() && (kind != EntryKind::Vitals || vitals.is_empty()) {
            return Err(ValidationError::new(
                "body",
                if kind == EntryKind::Vitals { "vitals_empty" } else { "required" },
            ));
        }
        Ok(Self { kind, body, vitals, needs_reply, audience: Audience::Team })
    }

    /// Sets who the entry is for; a family member only writes messages, to the
    /// whole team (shared with the family) or to the physicians only.
    pub fn for_audience(mut self, audience: &str, author_role: Option<TeamRole>) -> Result<Self, ValidationError> {
        let audience = match audience {
            "" => Audience::Team,
            code => Audience::parse(code).map_err(|_| ValidationError::new("audience", "unknown"))?,
        };
        self.audience = if author_role == Some(TeamRole::Family) {
            if self.kind != EntryKind::Message {
                return Err(ValidationError::new("kind", "family_messages_only"));
            }
            if audience == Audience::Physicians { Audience::Physicians } else { Audience::WithFamily }
        } else {
            audience
        };
        Ok(self)
    }
}

/// The login ids mentioned in a text as `@login` (full-width ＠ too), each once.
pub fn mentions(body: &str) -> Vec<String> {
    let folded = text::fold_full_width_ascii(body);
    let mut found: Vec<String> = Vec::new();
    for (i, _) in folded.match_indices('@') {
        let login: String = folded[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect::<String>()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if login.len() >= 3 && !found.contains(&login) {
            found.push(login);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_team_role_fits_only_its_professions() {
        use crate::account::Profession as P;
        assert!(TeamRole::PrimaryPhysician.fits(P::Physician));
        for p in [P::Nurse, P::Pharmacist, P::CareManager, P::Dentist, P::Family, P::Other] {
            assert!(!TeamRole::PrimaryPhysician.fits(p), "{p:?} as primary physician");
            assert!(!TeamRole::BackupPhysician.fits(p), "{p:?} as backup physician");
        }
        assert!(TeamRole::VisitingNurse.fits(P::Nurse));
        assert!(!TeamRole::VisitingNurse.fits(P::CareWorker));
        assert!(TeamRole::CareManager.fits(P::CareManager));
        assert!(!TeamRole::CareManager.fits(P::Nurse));
        assert!(TeamRole::Family.fits(P::Family));
        // A family account holds no professional role, whatever it is.
        for role in TeamRole::ALL.iter().filter(|r| **r != TeamRole::Family) {
            assert!(!role.fits(P::Family), "family as {role:?}");
        }
        // Every profession but family fits some role, so anyone can be added.
        for p in P::ALL.iter().filter(|p| **p != P::Family) {
            assert!(TeamRole::fitting(*p).next().is_some(), "{p:?} fits no role");
            assert!(TeamRole::fitting(*p).all(|r| r != TeamRole::Family && !(r.is_physician() && *p != P::Physician)));
        }
    }

    #[test]
    fn plausible_vitals_pass_and_read_well() {
        let f = VitalsForm {
            temperature_c: "37.2",
            systolic: "128",
            diastolic: "76",
            spo2: "９６",
            ..VitalsForm::default()
        };
        let v = VitalSigns::parse(&f).unwrap_or_default();
        assert_eq!(v.summary(), "体温 37.2℃ / 血圧 128/76 / SpO2 96%");
    }

    #[test]
    fn impossible_vitals_are_refused() {
        let cases = [
            (VitalsForm { systolic: "300", diastolic: "80", ..VitalsForm::default() }, ("systolic", "implausible")),
            (
                VitalsForm { systolic: "80", diastolic: "120", ..VitalsForm::default() },
                ("diastolic", "not_below_systolic"),
            ),
            (VitalsForm { systolic: "120", ..VitalsForm::default() }, ("diastolic", "both_pressures")),
            (VitalsForm { temperature_c: "73", ..VitalsForm::default() }, ("temperature_c", "implausible")),
            (VitalsForm { spo2: "101", ..VitalsForm::default() }, ("spo2", "implausible")),
            (VitalsForm { pulse: "abc", ..VitalsForm::default() }, ("pulse", "number")),
            (VitalsForm { pain: "11", ..VitalsForm::default() }, ("pain", "implausible")),
        ];
        for (f, (field, code)) in cases {
            assert_eq!(VitalSigns::parse(&f), Err(ValidationError::new(field, code)));
        }
    }

    #[test]
    fn not_a_number_is_refused() {
        // Found by fuzzing (fuzz/, target domain_forms): "NaN" parsed as an f64 and passed the range check.
        for raw in ["NaN", "nan", "-NaN", "ＮａＮ"] {
            let t = VitalsForm { temperature_c: raw, ..VitalsForm::default() };
            assert_eq!(VitalSigns::parse(&t), Err(ValidationError::new("temperature_c", "implausible")), "{raw}");
            let w = VitalsForm { weight_kg: raw, ..VitalsForm::default() };
            assert_eq!(VitalSigns::parse(&w), Err(ValidationError::new("weight_kg", "implausible")), "{raw}");
        }
    }

    #[test]
    fn family_members_read_only_what_is_shared_with_them() {
        assert_eq!(visible_audiences(Some(TeamRole::Family)), &[Audience::WithFamily]);
        assert!(visible_audiences(Some(TeamRole::BackupPhysician)).contains(&Audience::Physicians));
        assert!(!visible_audiences(Some(TeamRole::VisitingNurse)).contains(&Audience::Physicians));
        let none = VitalsForm::default();
        let draft = |kind| EntryDraft::parse(kind, "こんにちは", &none, false).unwrap_or_else(|e| unreachable!("{e}"));
        let family = Some(TeamRole::Family);
        assert_eq!(draft("message").for_audience("team", family).map(|d| d.audience), Ok(Audience::WithFamily));
        assert_eq!(draft("message").for_audience("physicians", family).map(|d| d.audience), Ok(Audience::Physicians));
        assert_eq!(
            draft("urgent").for_audience("", family).err(),
            Some(ValidationError::new("kind", "family_messages_only"))
        );
        assert_eq!(
            draft("visit_record").for_audience("family", Some(TeamRole::VisitingNurse)).map(|d| d.audience),
            Ok(Audience::WithFamily)
        );
    }

    #[test]
    fn mentions_are_found_once_each() {
        assert_eq!(
            mentions("@dr.sato 先生、ご確認ください。＠cm.yamamoto さんも。@dr.sato"),
            vec!["dr.sato", "cm.yamamoto"]
        );
        assert_eq!(mentions("メール: sato@example.jp"), vec!["example.jp"]);
        assert!(mentions("@a と @ だけ").is_empty());
        assert_eq!(mentions("@ns.tanaka."), vec!["ns.tanaka"]);
    }

    #[test]
    fn an_entry_needs_text_or_vitals() {
        let none = VitalsForm::default();
        assert_eq!(
            EntryDraft::parse("message", "  ", &none, false).err(),
            Some(ValidationError::new("body", "required"))
        );
        assert_eq!(
            EntryDraft::parse("vitals", "", &none, false).err(),
            Some(ValidationError::new("body", "vitals_empty"))
        );
        let some = VitalsForm { pulse: "72", ..VitalsForm::default() };
        assert!(EntryDraft::parse("vitals", "", &some, false).is_ok());
        assert_eq!(EntryDraft::parse("gossip", "x", &none, false).err(), Some(ValidationError::new("kind", "unknown")));
        let kept = EntryDraft::parse("visit_record", "1行目\n2行目", &none, true);
        assert_eq!(kept.map(|d| d.body), Ok("1行目\n2行目".to_owned()));
    }

    proptest! {
        /// Whatever is typed, parsing never panics, and what it accepts is in range.
        #[test]
        fn parsing_accepts_only_plausible_values(t in "\\PC{0,8}", s in 0u32..400, d in 0u32..400, spo2 in 0u32..200) {
            let (s, d, spo2) = (s.to_string(), d.to_string(), spo2.to_string());
            let f = VitalsForm { temperature_c: &t, systolic: &s, diastolic: &d, spo2: &spo2, ..VitalsForm::default() };
            if let Ok(v) = VitalSigns::parse(&f) {
                prop_assert!(v.temperature_c.is_none_or(|t| (30.0..=43.0).contains(&t)));
                prop_assert!(v.systolic.zip(v.diastolic).is_none_or(|(s, d)| s > d && (40..=280).contains(&s)));
                prop_assert!(v.spo2.is_none_or(|x| (50..=100).contains(&x)));
            }
        }
    }
}

/// A file attached to an entry: a photo (JPEG, PNG) or a PDF, at most
/// [`MAX_ATTACHMENT_BYTES`], whose content is what its name and type claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFile {
    pub content_type: &'static str,
    pub file_name: String,
}

pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

impl AttachmentFile {
    /// Checks the bytes themselves (magic numbers), not just what the browser said.
    pub fn inspect(declared_type: &str, file_name: &str, bytes: &[u8]) -> Result<Self, ValidationError> {
        if bytes.is_empty() {
            return Err(ValidationError::new("attachment", "empty"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(ValidationError::new("attachment", "too_large"));
        }
        let sniffed = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            "image/png"
        } else if bytes.starts_with(b"%PDF-") {
            "application/pdf"
        } else {
            return Err(ValidationError::new("attachment", "unsupported_type"));
        };
        let declared = declared_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let declared = if declared == "image/jpg" { "image/jpeg".to_owned() } else { declared };
        if !declared.is_empty() && declared != "application/octet-stream" && declared != sniffed {
            return Err(ValidationError::new("attachment", "disguised"));
        }
        let name: String = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ';'))
            .take(100)
            .collect();
        let extension_ok = {
            let lower = name.to_ascii_lowercase();
            match sniffed {
                "image/jpeg" => lower.ends_with(".jpg") || lower.ends_with(".jpeg"),
                "image/png" => lower.ends_with(".png"),
                _ => lower.ends_with(".pdf"),
            }
        };
        if !name.is_empty() && name.contains('.') && !extension_ok {
            return Err(ValidationError::new("attachment", "disguised"));
        }
        Ok(Self { content_type: sniffed, file_name: if name.is_empty() { "attachment".to_owned() } else { name } })
    }

    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

#[cfg(test)]
mod attachment_tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];

    #[test]
    fn photos_and_pdfs_pass_and_disguises_do_not() {
        assert_eq!(
            AttachmentFile::inspect("image/jpeg", "C:\\photos\\褥瘡.jpg", JPEG).map(|a| a.file_name),
            Ok("褥瘡.jpg".into())
        );
        assert!(AttachmentFile::inspect("application/pdf", "紹介状.pdf", b"%PDF-1.7 ...").is_ok());
        assert_eq!(
            AttachmentFile::inspect("image/png", "x.png", JPEG),
            Err(ValidationError::new("attachment", "disguised"))
        );
        assert_eq!(
            AttachmentFile::inspect("image/jpeg", "virus.exe", JPEG),
            Err(ValidationError::new("attachment", "disguised"))
        );
        assert_eq!(
            AttachmentFile::inspect("image/jpeg", "page.jpg", b"<html><script>"),
            Err(ValidationError::new("attachment", "unsupported_type"))
        );
        let big = vec![0xFF; MAX_ATTACHMENT_BYTES + 1];
        assert_eq!(
            AttachmentFile::inspect("image/jpeg", "big.jpg", &big),
            Err(ValidationError::new("attachment", "too_large"))
        );
        assert_eq!(
            AttachmentFile::inspect("image/jpeg", "e.jpg", &[]),
            Err(ValidationError::new("attachment", "empty"))
        );
    }
}
