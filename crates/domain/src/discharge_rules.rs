//! The municipality's discharge rules (退院支援ルール) as data: which item of
//! the handover, provided by whom, by how many days before discharge. A rule
//! set is versioned (a change is a new version); a discharge case is checked
//! against the version in force; the pre-discharge conference (退院前カンファレンス)
//! is scheduled and minuted on the case.

use crate::coordination::Handover;
use crate::on_call::parse_local_datetime;
use crate::{ValidationError, coded_enum, text};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

coded_enum!(
    /// An item of the handover a rule asks for.
    HandoverItem {
        MainDiagnoses = "main_diagnoses", "病名・病状", "Diagnoses and condition";
        Medications = "medications", "内服薬・処方", "Medications";
        Allergies = "allergies", "アレルギー", "Allergies";
        Adl = "adl", "ADL（日常生活動作）", "Activities of daily living";
        FamilySituation = "family_situation", "家族の状況", "Family situation";
        FamilyCareSkills = "family_care_skills", "家族の介護力", "Family's care skills";
        PlaceOfCare = "place_of_care", "療養場所の希望", "Wish about where to live";
        PlaceOfDeath = "place_of_death", "最期を迎えたい場所の希望", "Wish about where to die";
        NeededServices = "needed_services", "必要な医療・サービス", "Care needed";
        KeyPerson = "key_person", "キーパーソンと連絡先", "Key person and contact";
    }
);

impl HandoverItem {
    /// Whether the handover has this item.
    pub fn present_in(self, h: &Handover) -> bool {
        let some = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        match self {
            HandoverItem::MainDiagnoses => !h.patient.main_diagnoses.trim().is_empty(),
            HandoverItem::Medications => some(&h.medications),
            HandoverItem::Allergies => !h.patient.allergies.trim().is_empty(),
            HandoverItem::Adl => some(&h.adl),
            HandoverItem::FamilySituation => some(&h.family_situation),
            HandoverItem::FamilyCareSkills => some(&h.family_care_skills),
            HandoverItem::PlaceOfCare => some(&h.place_of_care),
            HandoverItem::PlaceOfDeath => some(&h.place_of_death),
            HandoverItem::NeededServices => !h.needed_services.is_empty(),
            HandoverItem::KeyPerson => {
                !h.patient.key_person.trim().is_empty() && !h.patient.key_person_phone.trim().is_empty()
            }
        }
    }
}

coded_enum!(
    /// Who provides an item.
    Provider {
        HospitalPhysician = "hospital_physician", "病院の主治医", "Hospital physician";
        WardNurse = "ward_nurse", "病棟看護師", "Ward nurse";
        DischargeUnit = "discharge_unit", "地域連携室（MSW・退院調整看護師）", "Discharge unit (MSW)";
        CareManager = "care_manager", "ケアマネジャー", "Care manager";
        PatientFamily = "patient_family", "本人・家族", "Patient and family";
    }
);

/// One rule: an item, who provides it, by how many days before discharge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DischargeRule {
    pub item: String,
    pub provider: String,
    pub days_before: i64,
    pub note: Option<String>,
}

impl DischargeRule {
    pub fn item(&self) -> Option<HandoverItem> {
        HandoverItem::parse(&self.item).ok()
    }

    pub fn provider(&self) -> Option<Provider> {
        Provider::parse(&self.provider).ok()
    }
}

/// Rules are given at most this many days before discharge.
pub const MAX_DAYS_BEFORE: i64 = 60;

/// One row of the rules form as typed.
#[derive(Debug, Clone, Default)]
pub struct RuleRow<'a> {
    pub item: &'a str,
    pub provider: &'a str,
    pub days_before: &'a str,
    pub note: &'a str,
}

/// Parses the rule set's rows: rows without an item are skipped; an item
/// appears once; days are 0 to [`MAX_DAYS_BEFORE`]. At least one rule.
pub fn parse_rules(rows: &[RuleRow<'_>]) -> Result<Vec<DischargeRule>, ValidationError> {
    let mut rules: Vec<DischargeRule> = Vec::new();
    for row in rows.iter().filter(|r| !r.item.trim().is_empty()) {
        let item = HandoverItem::parse(row.item.trim()).map_err(|_| ValidationError::new("item", "unknown"))?;
        if rules.iter().any(|r| r.item == item.code()) {
            return Err(ValidationError::new("item", "twice"));
        }
        let provider = Provider::parse(row.provider.trim()).map_err(|_| ValidationError::new("provider", "unknown"))?;
        let days: i64 = text::fold_full_width_ascii(row.days_before.trim())
            .parse()
            .map_err(|_| ValidationError::new("days_before", "number"))?;
        if !(0..=MAX_DAYS_BEFORE).contains(&days) {
            return Err(ValidationError::new("days_before", "out_of_range"));
        }
        rules.push(DischargeRule {
            item: item.code().to_owned(),
            provider: provider.code().to_owned(),
            days_before: days,
            note: text::optional("note", row.note, 200)?,
        });
    }
    if rules.is_empty() {
        return Err(ValidationError::new("item", "required"));
    }
    Ok(rules)
}

/// The rules a municipality starts with until it adopts its own (synthetic,
/// shaped like the discharge rules Japanese municipalities publish).
pub fn default_rules() -> Vec<DischargeRule> {
    let rule = |item: HandoverItem, provider: Provider, days: i64| DischargeRule {
        item: item.code().to_owned(),
        provider: provider.code().to_owned(),
        days_before: days,
        note: None,
    };
    use HandoverItem as I;
    use Provider as P;
    vec![
        rule(I::KeyPerson, P::DischargeUnit, 14),
        rule(I::PlaceOfCare, P::PatientFamily, 14),
        rule(I::MainDiagnoses, P::HospitalPhysician, 7),
        rule(I::Adl, P::WardNurse, 7),
        rule(I::FamilySituation, P::DischargeUnit, 7),
        rule(I::FamilyCareSkills, P::WardNurse, 7),
        rule(I::NeededServices, P::DischargeUnit, 7),
        rule(I::PlaceOfDeath, P::PatientFamily, 7),
        rule(I::Allergies, P::WardNurse, 3),
        rule(I::Medications, P::HospitalPhysician, 3),
    ]
}

/// How a case stands against one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCheck {
    pub item: HandoverItem,
    pub provider: Option<Provider>,
    pub due_on: Date,
    pub present: bool,
    /// Missing, and its day has come.
    pub overdue: bool,
}

/// Checks a handover against the rules, soonest due first.
pub fn check(rules: &[DischargeRule], handover: &Handover, today: Date) -> Vec<RuleCheck> {
    let mut out: Vec<RuleCheck> = rules
        .iter()
        .filter_map(|r| {
            let item = r.item()?;
            let due_on = handover.planned_discharge_on - time::Duration::days(r.days_before);
            let present = item.present_in(handover);
            Some(RuleCheck { item, provider: r.provider(), due_on, present, overdue: !present && due_on <= today })
        })
        .collect();
    out.sort_by_key(|c| (c.present, c.due_on));
    out
}

/// The pre-discharge conference as typed.
#[derive(Debug, Clone, Default)]
pub struct ConferenceForm<'a> {
    pub starts_at: &'a str,
    pub place: &'a str,
    pub online: bool,
    pub participants: &'a str,
    pub minutes: &'a str,
    pub decisions: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conference {
    pub starts_at: OffsetDateTime,
    pub place: Option<String>,
    pub online: bool,
    pub participants: String,
    pub minutes: Option<String>,
    pub decisions: Option<String>,
}

impl Conference {
    /// A place, or online (or both: a ward with some joining online).
    pub fn parse(f: &ConferenceForm<'_>) -> Result<Self, ValidationError> {
        let starts_at = parse_local_datetime("starts_at", f.starts_at)?;
        let place = text::optional("place", f.place, 100)?;
        if place.is_none() && !f.online {
            return Err(ValidationError::new("place", "required"));
        }
        Ok(Self {
            starts_at,
            place,
            online: f.online,
            participants: text::optional_multiline("participants", f.participants, 1000)?
                .ok_or(ValidationError::new("participants", "required"))?,
            minutes: text::optional_multiline("minutes", f.minutes, 4000)?,
            decisions: text::optional_multiline("decisions", f.decisions, 2000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::{Handover, HandoverForm};
    use crate::patient::PatientForm;
    use time::macros::date;

    fn handover() -> Handover {
        let patient = PatientForm {
            family_name: "流山",
            given_name: "一郎",
            family_name_kana: "ナガレヤマ",
            given_name_kana: "イチロウ",
            birth_date: "1940-05-05",
            sex: "male",
            address: "千葉県柏市豊四季1-2-3",
            care_level: "applying",
            main_diagnoses: "肺がん",
            ..PatientForm::default()
        };
        let form =
            HandoverForm { planned_discharge_on: "2026-12-20", medications: "なし", ..HandoverForm::default() };
        Handover::parse(&patient, &form, date!(2026 - 12 - 08)).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn a_case_is_checked_against_the_rules_with_due_dates() {
        let checks = check(&default_rules(), &handover(), date!(2026 - 12 - 08));
        let missing: Vec<HandoverItem> = checks.iter().filter(|c| !c.present).map(|c| c.item).collect();
        assert!(missing.contains(&HandoverItem::KeyPerson) && missing.contains(&HandoverItem::Adl));
        assert!(!missing.contains(&HandoverItem::MainDiagnoses) && !missing.contains(&HandoverItem::Medications));
        let key = checks.iter().find(|c| c.item == HandoverItem::KeyPerson).map(|c| (c.due_on, c.overdue));
        assert_eq!(key, Some((date!(2026 - 12 - 06), true)), "14 days before the 20th has passed");
        let adl = checks.iter().find(|c| c.item == HandoverItem::Adl).map(|c| (c.due_on, c.overdue));
        assert_eq!(adl, Some((date!(2026 - 12 - 13), false)));
        assert!(!checks.first().is_some_and(|c| c.present), "what is missing comes first");
    }

    #[test]
    fn a_rule_set_parses_once_per_item_within_range() {
        let row = |item, provider, days| RuleRow { item, provider, days_before: days, note: "" };
        let ok = parse_rules(&[
            row("adl", "ward_nurse", "７"),
            row("", "", ""),
            row("medications", "hospital_physician", "3"),
        ]);
        assert_eq!(ok.map(|r| r.len()), Ok(2));
        assert_eq!(
            parse_rules(&[row("adl", "ward_nurse", "7"), row("adl", "ward_nurse", "3")]).err(),
            Some(ValidationError::new("item", "twice"))
        );
        assert_eq!(
            parse_rules(&[row("adl", "ward_nurse", "90")]).err(),
            Some(ValidationError::new("days_before", "out_of_range"))
        );
        assert_eq!(parse_rules(&[row("adl", "janitor", "1")]).err(), Some(ValidationError::new("provider", "unknown")));
        assert_eq!(parse_rules(&[]).err(), Some(ValidationError::new("item", "required")));
    }

    #[test]
    fn a_conference_needs_a_place_or_online_and_who_attends() {
        let f = ConferenceForm {
            starts_at: "2026-12-15T14:00",
            place: "5階病棟 面談室",
            participants: "在宅医、訪問看護、ケアマネ",
            ..ConferenceForm::default()
        };
        assert!(Conference::parse(&f).is_ok());
        let nowhere = ConferenceForm { place: "", ..f.clone() };
        assert_eq!(Conference::parse(&nowhere).err(), Some(ValidationError::new("place", "required")));
        assert!(Conference::parse(&ConferenceForm { online: true, ..nowhere }).is_ok());
    }
}
