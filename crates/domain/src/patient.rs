//! Patients cared for at home, and the consent that lets their team share.

use crate::{ValidationError, coded_enum, text};
use time::Date;

coded_enum!(
    /// 性別 as recorded for care (not identity documents).
    Sex {
        Female = "female", "女性", "Female";
        Male = "male", "男性", "Male";
        Other = "other", "その他", "Other";
        Unknown = "unknown", "不明", "Unknown";
    }
);

coded_enum!(
    /// 要介護度.
    CareLevel {
        None = "none", "なし", "None";
        Applying = "applying", "申請中", "Applied for";
        Support1 = "support_1", "要支援1", "Support level 1";
        Support2 = "support_2", "要支援2", "Support level 2";
        Care1 = "care_1", "要介護1", "Care level 1";
        Care2 = "care_2", "要介護2", "Care level 2";
        Care3 = "care_3", "要介護3", "Care level 3";
        Care4 = "care_4", "要介護4", "Care level 4";
        Care5 = "care_5", "要介護5", "Care level 5";
    }
);

coded_enum!(
    /// Where the patient is now.
    PatientStatus {
        AtHome = "at_home", "在宅療養中", "At home";
        InHospital = "in_hospital", "入院中", "In hospital";
        InFacility = "in_facility", "施設入所", "In a care facility";
        Ended = "ended", "終了", "Ended";
    }
);

coded_enum!(
    /// How home care ended: the programme's home-death figures come from here.
    Outcome {
        HomeDeath = "home_death", "在宅看取り", "Died at home";
        HospitalDeath = "hospital_death", "病院で死亡", "Died in hospital";
        FacilityDeath = "facility_death", "施設で死亡", "Died in a care facility";
        MovedToFacility = "moved_to_facility", "施設入所", "Moved to a care facility";
        Moved = "moved", "転居", "Moved away";
        Recovered = "recovered", "在宅医療終了（改善）", "No longer needs home care";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// Special care that changes who can be on the team (在宅酸素, 胃ろう, ...).
    SpecialCare {
        HomeOxygen = "home_oxygen", "在宅酸素", "Home oxygen";
        Gastrostomy = "gastrostomy", "胃ろう・経管栄養", "Gastrostomy / tube feeding";
        Ventilator = "ventilator", "人工呼吸器", "Ventilator";
        PressureUlcer = "pressure_ulcer", "褥瘡", "Pressure ulcer";
        OpioidPain = "opioid_pain", "麻薬による疼痛管理", "Opioid pain management";
        Catheter = "catheter", "膀胱留置カテーテル", "Urinary catheter";
        Dialysis = "dialysis", "在宅透析", "Home dialysis";
        Tracheostomy = "tracheostomy", "気管切開・吸引", "Tracheostomy / suction";
        Dementia = "dementia", "認知症", "Dementia";
    }
);

coded_enum!(
    /// How consent was given.
    ConsentMethod {
        Written = "written", "書面", "Written";
        Verbal = "verbal", "口頭", "Verbal";
    }
);

/// The patient's details as entered, all validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientDetails {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub birth_date: Date,
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
}

/// The raw fields of the patient form.
#[derive(Debug, Clone, Default)]
pub struct PatientForm<'a> {
    pub family_name: &'a str,
    pub given_name: &'a str,
    pub family_name_kana: &'a str,
    pub given_name_kana: &'a str,
    pub birth_date: &'a str,
    pub sex: &'a str,
    pub address: &'a str,
    pub daily_living_area: &'a str,
    pub phone: &'a str,
    pub key_person: &'a str,
    pub key_person_phone: &'a str,
    pub care_level: &'a str,
    pub main_diagnoses: &'a str,
    pub allergies: &'a str,
    pub special_care: Vec<&'a str>,
}

/// Parses `YYYY-MM-DD` (what `<input type=date>` sends; full-width digits folded).
pub fn parse_date(field: &'static str, raw: &str) -> Result<Date, ValidationError> {
    let folded = text::fold_full_width_ascii(raw.trim()).replace('/', "-");
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(&folded, &format).map_err(|_| ValidationError::new(field, "date"))
}

fn kana(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let value = text::required(field, raw, 60)?;
    if !value.chars().all(|c| text::is_kana(c) || c == ' ' || c == '　') {
        return Err(ValidationError::new(field, "kana_only"));
    }
    Ok(value)
}

impl PatientDetails {
    /// `today` bounds the birth date (no one is born tomorrow or 130 years ago).
    pub fn parse(form: &PatientForm<'_>, today: Date) -> Result<Self, ValidationError> {
        let birth_date = parse_date("birth_date", form.birth_date)?;
        if birth_date > today || today.year() - birth_date.year() > 125 {
            return Err(ValidationError::new("birth_date", "implausible"));
        }
        let mut special_care = Vec::new();
        for code in &form.special_care {
            let care = SpecialCare::parse(code).map_err(|_| ValidationError::new("special_care", "unknown"))?;
            if !special_care.contains(&care) {
                special_care.push(care);
            }
        }
        let phone = |field: &'static str, raw: &str| -> Result<Option<String>, ValidationError> {
            match raw.trim() {
                "" => Ok(None),
                raw => crate::facility::PhoneNumber::parse(raw)
                    .map(|p| Some(p.as_str().to_owned()))
                    .map_err(|_| ValidationError::new(field, "format")),
            }
        };
        Ok(Self {
            family_name: text::required("family_name", form.family_name, 40)?,
            given_name: text::required("given_name", form.given_name, 40)?,
            family_name_kana: kana("family_name_kana", form.family_name_kana)?,
            given_name_kana: kana("given_name_kana", form.given_name_kana)?,
            birth_date,
            sex: Sex::parse(form.sex).map_err(|_| ValidationError::new("sex", "unknown"))?,
            address: text::required("address", form.address, 200)?,
            daily_living_area: text::optional("daily_living_area", form.daily_living_area, 60)?,
            phone: phone("phone", form.phone)?,
            key_person: text::optional("key_person", form.key_person, 100)?,
            key_person_phone: phone("key_person_phone", form.key_person_phone)?,
            care_level: CareLevel::parse(form.care_level).map_err(|_| ValidationError::new("care_level", "unknown"))?,
            main_diagnoses: text::optional("main_diagnoses", form.main_diagnoses, 500)?,
            allergies: text::optional("allergies", form.allergies, 500)?,
            special_care,
        })
    }

    /// What patient search matches against: kanji and kana, folded.
    pub fn search_key(&self) -> String {
        text::search_key(&format!(
            "{}{} {}{}",
            self.family_name, self.given_name, self.family_name_kana, self.given_name_kana
        ))
    }
}

/// Age in whole years on `on`.
pub fn age(birth: Date, on: Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// Consent as recorded by a team member.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentDetails {
    pub given_on: Date,
    pub method: ConsentMethod,
    /// `None` when the patient consented; the proxy's name otherwise.
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    pub scope: String,
}

impl ConsentDetails {
    pub fn parse(
        given_on: &str,
        method: &str,
        proxy_name: &str,
        proxy_relation: &str,
        scope: &str,
        today: Date,
    ) -> Result<Self, ValidationError> {
        let given_on = parse_date("given_on", given_on)?;
        if given_on > today {
            return Err(ValidationError::new("given_on", "in_future"));
        }
        let proxy_name = text::optional("proxy_name", proxy_name, 60)?;
        let proxy_relation = text::optional("proxy_relation", proxy_relation, 30)?;
        if proxy_name.is_some() && proxy_relation.is_none() {
            return Err(ValidationError::new("proxy_relation", "required"));
        }
        Ok(Self {
            given_on,
            method: ConsentMethod::parse(method).map_err(|_| ValidationError::new("method", "unknown"))?,
            proxy_name,
            proxy_relation,
            scope: text::required("scope", scope, 500)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form() -> PatientForm<'static> {
        PatientForm {
            family_name: "柏",
            given_name: "花子",
            family_name_kana: "カシワ",
            given_name_kana: "ハナコ",
            birth_date: "1938-04-01",
            sex: "female",
            address: "千葉県柏市柏1-1-1",
            care_level: "care_3",
            special_care: vec!["home_oxygen", "pressure_ulcer", "home_oxygen"],
            ..PatientForm::default()
        }
    }

    #[test]
    fn a_patient_form_parses_and_dedups_special_care() {
        let p = PatientDetails::parse(&form(), date!(2026 - 11 - 25));
        let p = p.unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(p.special_care, vec![SpecialCare::HomeOxygen, SpecialCare::PressureUlcer]);
        assert_eq!(p.care_level, CareLevel::Care3);
        assert_eq!(age(p.birth_date, date!(2026 - 11 - 25)), 88);
        assert_eq!(age(p.birth_date, date!(2027 - 03 - 31)), 88);
        assert_eq!(age(p.birth_date, date!(2027 - 04 - 01)), 89);
        assert_eq!(p.search_key(), "柏花子かしわはなこ");
    }

    #[test]
    fn implausible_input_is_refused_with_the_field_named() {
        let today = date!(2026 - 11 - 25);
        let cases = [
            (PatientForm { birth_date: "2030-01-01", ..form() }, ("birth_date", "implausible")),
            (PatientForm { birth_date: "1890-01-01", ..form() }, ("birth_date", "implausible")),
            (PatientForm { birth_date: "1938-02-30", ..form() }, ("birth_date", "date")),
            (PatientForm { family_name_kana: "柏", ..form() }, ("family_name_kana", "kana_only")),
            (PatientForm { care_level: "care_6", ..form() }, ("care_level", "unknown")),
            (PatientForm { phone: "12", ..form() }, ("phone", "format")),
            (PatientForm { given_name: " ", ..form() }, ("given_name", "required")),
        ];
        for (f, (field, code)) in cases {
            assert_eq!(PatientDetails::parse(&f, today).err(), Some(ValidationError::new(field, code)));
        }
    }

    #[test]
    fn consent_by_a_proxy_needs_the_relation() {
        let today = date!(2026 - 11 - 25);
        assert!(ConsentDetails::parse("2026-11-20", "written", "", "", "ケアチーム内での共有", today).is_ok());
        assert_eq!(
            ConsentDetails::parse("2026-11-20", "verbal", "柏 一郎", "", "共有", today).err(),
            Some(ValidationError::new("proxy_relation", "required"))
        );
        assert_eq!(
            ConsentDetails::parse("2026-12-20", "written", "", "", "共有", today).err(),
            Some(ValidationError::new("given_on", "in_future"))
        );
    }
}

coded_enum!(
    /// A place someone wishes to be cared for, or to die.
    Place {
        Home = "home", "自宅", "Home";
        CareFacility = "care_facility", "介護施設", "Care facility";
        Hospital = "hospital", "病院", "Hospital";
        PalliativeCareUnit = "palliative_care_unit", "緩和ケア病棟", "Palliative care unit";
        Undecided = "undecided", "まだ決めていない", "Not decided yet";
    }
);

coded_enum!(
    /// Wishes about life-sustaining treatment.
    TreatmentWish {
        Full = "full", "できる限りの治療を望む", "All available treatment";
        Limited = "limited", "苦痛の少ない範囲の治療を望む", "Treatment that does not add suffering";
        ComfortOnly = "comfort_only", "延命治療は望まず、苦痛の緩和を優先", "No life prolongation; comfort first";
        Undecided = "undecided", "まだ決めていない", "Not decided yet";
    }
);

/// One revision of an advance care plan (人生会議). Every revision is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvanceCarePlan {
    pub discussed_on: Date,
    pub participants: String,
    pub place_of_care: Place,
    pub place_of_death: Place,
    pub treatment: TreatmentWish,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    /// The patient's own words: what matters to them.
    pub wishes: Option<String>,
}

/// The raw ACP form.
#[derive(Debug, Clone, Default)]
pub struct AdvanceCarePlanForm<'a> {
    pub discussed_on: &'a str,
    pub participants: &'a str,
    pub place_of_care: &'a str,
    pub place_of_death: &'a str,
    pub treatment: &'a str,
    pub proxy_name: &'a str,
    pub proxy_relation: &'a str,
    pub wishes: &'a str,
}

impl AdvanceCarePlan {
    pub fn parse(f: &AdvanceCarePlanForm<'_>, today: Date) -> Result<Self, ValidationError> {
        let discussed_on = parse_date("discussed_on", f.discussed_on)?;
        if discussed_on > today {
            return Err(ValidationError::new("discussed_on", "in_future"));
        }
        let proxy_name = text::optional("proxy_name", f.proxy_name, 60)?;
        let proxy_relation = text::optional("proxy_relation", f.proxy_relation, 30)?;
        if proxy_name.is_some() && proxy_relation.is_none() {
            return Err(ValidationError::new("proxy_relation", "required"));
        }
        Ok(Self {
            discussed_on,
            participants: text::required("participants", f.participants, 300)?,
            place_of_care: Place::parse(f.place_of_care)
                .map_err(|_| ValidationError::new("place_of_care", "unknown"))?,
            place_of_death: Place::parse(f.place_of_death)
                .map_err(|_| ValidationError::new("place_of_death", "unknown"))?,
            treatment: TreatmentWish::parse(f.treatment).map_err(|_| ValidationError::new("treatment", "unknown"))?,
            proxy_name,
            proxy_relation,
            wishes: text::optional_multiline("wishes", f.wishes, 2000)?,
        })
    }
}

/// Where the patient is now and, once care has ended, how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub status: PatientStatus,
    pub outcome: Option<(Outcome, Date)>,
}

impl StatusChange {
    /// Ending care needs an outcome and its date (the home-death figures come
    /// from here); any other status must not carry one.
    pub fn parse(status: &str, outcome: &str, outcome_date: &str, today: Date) -> Result<Self, ValidationError> {
        let status = PatientStatus::parse(status).map_err(|_| ValidationError::new("status", "unknown"))?;
        if status != PatientStatus::Ended {
            return Ok(Self { status, outcome: None });
        }
        let outcome = Outcome::parse(outcome).map_err(|_| ValidationError::new("outcome", "required_when_ended"))?;
        let date = parse_date("outcome_date", outcome_date)?;
        if date > today {
            return Err(ValidationError::new("outcome_date", "in_future"));
        }
        Ok(Self { status, outcome: Some((outcome, date)) })
    }
}

#[cfg(test)]
mod acp_tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_advance_care_plan_needs_its_date_and_who_was_there() {
        let today = date!(2026 - 11 - 25);
        let form = AdvanceCarePlanForm {
            discussed_on: "2026-11-20",
            participants: "本人、長女、主治医、訪問看護師",
            place_of_care: "home",
            place_of_death: "home",
            treatment: "comfort_only",
            wishes: "孫の結婚式までは家で過ごしたい",
            ..AdvanceCarePlanForm::default()
        };
        let plan = AdvanceCarePlan::parse(&form, today);
        assert_eq!(plan.as_ref().map(|p| p.place_of_death), Ok(Place::Home));
        let no_one = AdvanceCarePlanForm { participants: "", ..form.clone() };
        assert_eq!(
            AdvanceCarePlan::parse(&no_one, today).err(),
            Some(ValidationError::new("participants", "required"))
        );
        let proxy = AdvanceCarePlanForm { proxy_name: "柏 一郎", ..form };
        assert_eq!(
            AdvanceCarePlan::parse(&proxy, today).err(),
            Some(ValidationError::new("proxy_relation", "required"))
        );
    }

    #[test]
    fn ending_care_needs_an_outcome_and_a_date() {
        let today = date!(2026 - 11 - 25);
        assert_eq!(
            StatusChange::parse("ended", "home_death", "2026-11-24", today),
            Ok(StatusChange {
                status: PatientStatus::Ended,
                outcome: Some((Outcome::HomeDeath, date!(2026 - 11 - 24)))
            })
        );
        assert_eq!(
            StatusChange::parse("ended", "", "2026-11-24", today).err(),
            Some(ValidationError::new("outcome", "required_when_ended"))
        );
        assert_eq!(
            StatusChange::parse("in_hospital", "home_death", "2026-11-24", today),
            Ok(StatusChange { status: PatientStatus::InHospital, outcome: None })
        );
        assert_eq!(
            StatusChange::parse("ended", "home_death", "2026-12-24", today).err(),
            Some(ValidationError::new("outcome_date", "in_future"))
        );
    }
}
