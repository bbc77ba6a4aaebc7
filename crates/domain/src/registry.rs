//! What the resource registry says about a facility beyond its official data:
//! the services a doctor, a care manager or a citizen asks about, opening
//! hours, whether it accepts new patients now (and when that was last
//! confirmed), a contact person and languages. Kept current by the facility.

use crate::{ValidationError, coded_enum, text};
use time::Date;

coded_enum!(
    /// Services of the home-care network.
    FacilityService {
        ScheduledHomeVisit = "scheduled_home_visit", "訪問診療", "Scheduled home visits";
        UrgentVisit = "urgent_visit", "往診", "Urgent visits";
        AroundTheClock = "around_the_clock", "24時間対応", "24-hour response";
        HomeDeath = "home_death", "在宅看取り", "End-of-life care at home";
        PalliativeOpioids = "palliative_opioids", "緩和ケア・医療用麻薬", "Palliative care and opioids";
        HomeOxygen = "home_oxygen", "在宅酸素", "Home oxygen";
        Ventilator = "ventilator", "人工呼吸器", "Ventilators";
        TubeFeeding = "tube_feeding", "胃ろう・経管栄養", "Gastrostomy and tube feeding";
        PressureUlcer = "pressure_ulcer", "褥瘡", "Pressure ulcers";
        Dementia = "dementia", "認知症", "Dementia";
        Paediatric = "paediatric", "小児在宅", "Children at home";
        DentalVisit = "dental_visit", "訪問歯科", "Dental visits";
        PharmacyVisit = "pharmacy_visit", "訪問薬剤管理", "Pharmacist visits";
        Rehabilitation = "rehabilitation", "訪問リハビリ", "Rehabilitation at home";
    }
);

coded_enum!(
    /// Whether a facility takes new patients (利用者) now.
    Accepting {
        Yes = "yes", "受け入れ可", "Accepting";
        Limited = "limited", "要相談", "Ask first";
        No = "no", "受け入れ停止中", "Not accepting";
    }
);

/// The profile as typed on the facility's page.
#[derive(Debug, Clone, Default)]
pub struct FacilityProfileForm<'a> {
    pub services: Vec<&'a str>,
    pub opening_hours: &'a str,
    /// Empty: not said.
    pub accepting: &'a str,
    pub contact_person: &'a str,
    pub languages: &'a str,
    pub note: &'a str,
}

/// A parsed profile.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityProfile {
    pub services: Vec<FacilityService>,
    pub opening_hours: Option<String>,
    pub accepting: Option<Accepting>,
    /// Set to the day it was saved whenever `accepting` is given.
    pub accepting_confirmed_on: Option<Date>,
    pub contact_person: Option<String>,
    pub languages: Option<String>,
    pub note: Option<String>,
}

impl FacilityProfile {
    pub fn parse(form: &FacilityProfileForm<'_>, today: Date) -> Result<Self, ValidationError> {
        let mut services = Vec::new();
        for code in form.services.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let service = FacilityService::parse(code).map_err(|_| ValidationError::new("services", "unknown"))?;
            if !services.contains(&service) {
                services.push(service);
            }
        }
        let accepting = match form.accepting.trim() {
            "" => None,
            raw => Some(Accepting::parse(raw).map_err(|_| ValidationError::new("accepting", "unknown"))?),
        };
        Ok(Self {
            services,
            opening_hours: text::optional("opening_hours", form.opening_hours, 200)?,
            accepting,
            accepting_confirmed_on: accepting.map(|_| today),
            contact_person: text::optional("contact_person", form.contact_person, 60)?,
            languages: text::optional("languages", form.languages, 100)?,
            note: text::optional_multiline("note", form.note, 500)?,
        })
    }

    /// The services as stored (comma-separated codes).
    pub fn services_code(&self) -> String {
        self.services.iter().map(|s| s.code()).collect::<Vec<_>>().join(",")
    }
}

/// Services from their stored form; unknown codes are skipped.
pub fn services_from_code(code: &str) -> Vec<FacilityService> {
    code.split(',').filter_map(|c| FacilityService::parse(c.trim()).ok()).collect()
}

/// An address compared across lists: widths folded, spaces dropped, and
/// 丁目・番地・番・号 written as the hyphens the other list uses
/// (「柏４－６－１」 and 「柏4丁目6番1号」 are the same place).
pub fn address_key(raw: &str) -> String {
    let folded = text::fold_full_width_ascii(raw);
    let mut key = String::with_capacity(folded.len());
    let mut chars = folded.chars().filter(|c| !c.is_whitespace()).peekable();
    while let Some(c) = chars.next() {
        match c {
            '丁' if chars.peek() == Some(&'目') => {
                chars.next();
                key.push('-');
            }
            '番' if chars.peek() == Some(&'地') => {
                chars.next();
                key.push('-');
            }
            '番' => key.push('-'),
            '号' => {}
            '−' | '‐' | '‑' | '–' | '—' => key.push('-'),
            c => key.push(c),
        }
    }
    key.trim_end_matches('-').to_owned()
}

fn name_key(raw: &str) -> String {
    text::fold_full_width_ascii(raw).chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether two lists that share no code name the same clinic or hospital
/// (医療情報ネット has no 医療機関コード, the 厚生局 list no ID of 医療情報ネット):
/// at the same address, with names that agree once spacing and width are set
/// aside, or where one is the other with the corporation in front
/// (「医療法人社団　見本会　見本西医院」 and 「見本西医院」).
pub fn same_medical_facility(a_name: &str, a_address: &str, b_name: &str, b_address: &str) -> bool {
    let (a_address, b_address) = (address_key(a_address), address_key(b_address));
    !a_address.is_empty() && a_address == b_address && same_medical_name(a_name, b_name)
}

/// The name half of [`same_medical_facility`], for callers that already
/// grouped facilities by [`address_key`].
pub fn same_medical_name(a_name: &str, b_name: &str) -> bool {
    let (a, b) = (name_key(a_name), name_key(b_name));
    let (short, long) = if a.chars().count() <= b.chars().count() { (&a, &b) } else { (&b, &a) };
    // A bare 「医院」 or 「病院」 says nothing: the shorter name must be a name.
    short.chars().count() >= 3 && long.ends_with(short.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_profile_parses_and_dates_its_accepting_answer() {
        let form = FacilityProfileForm {
            services: vec!["urgent_visit", "ventilator", "urgent_visit", ""],
            opening_hours: " 月〜金 9:00〜18:00 ",
            accepting: "yes",
            contact_person: "管理者 山田",
            languages: "日本語、英語",
            note: "",
        };
        let p = FacilityProfile::parse(&form, date!(2026 - 11 - 25)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.services, vec![FacilityService::UrgentVisit, FacilityService::Ventilator]);
        assert_eq!(p.services_code(), "urgent_visit,ventilator");
        assert_eq!(services_from_code(&p.services_code()), p.services);
        assert_eq!(p.opening_hours.as_deref(), Some("月〜金 9:00〜18:00"));
        assert_eq!(p.accepting_confirmed_on, Some(date!(2026 - 11 - 25)));
        assert_eq!(p.note, None);
    }

    #[test]
    fn unknown_choices_are_refused() {
        let bad = FacilityProfileForm { services: vec!["teleportation"], ..FacilityProfileForm::default() };
        assert_eq!(
            FacilityProfile::parse(&bad, date!(2026 - 11 - 25)).map(|_| ()),
            Err(ValidationError::new("services", "unknown"))
        );
        let bad = FacilityProfileForm { accepting: "maybe", ..FacilityProfileForm::default() };
        assert!(FacilityProfile::parse(&bad, date!(2026 - 11 - 25)).is_err());
        let silent = FacilityProfile::parse(&FacilityProfileForm::default(), date!(2026 - 11 - 25));
        assert_eq!(silent.map(|p| p.accepting_confirmed_on), Ok(None), "no answer, no date");
    }

    #[test]
    fn the_same_clinic_is_recognised_across_lists_and_a_neighbour_is_not() {
        assert_eq!(address_key("千葉県柏市試験町４－６－１"), "千葉県柏市試験町4-6-1");
        assert_eq!(address_key("千葉県柏市試験町4丁目6番1号"), "千葉県柏市試験町4-6-1");
        assert_eq!(address_key("千葉県 柏市 試験町４丁目６番地１"), "千葉県柏市試験町4-6-1");
        let here = "千葉県柏市試験町４－６－１";
        assert!(same_medical_facility(
            "医療法人社団　見本会　見本西医院",
            here,
            "医療法人社団見本会 見本西医院",
            "千葉県柏市試験町4-6-1"
        ));
        assert!(same_medical_facility(
            "医療法人社団　見本会　見本西医院",
            here,
            "見本西医院",
            "千葉県柏市試験町4丁目6番1号"
        ));
        assert!(
            !same_medical_facility("見本西医院", here, "見本西医院", "千葉県柏市試験町４－６－２"),
            "another address"
        );
        assert!(
            !same_medical_facility("見本西医院", here, "試験駅前歯科", here),
            "another clinic in the same building"
        );
        assert!(!same_medical_facility("医療法人社団　見本会　見本西医院", here, "医院", here), "too short to tell");
        assert!(!same_medical_facility("見本西医院", "", "見本西医院", ""), "no address, no match");
    }
}
