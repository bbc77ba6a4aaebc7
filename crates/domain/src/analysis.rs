//! The municipality's analysts' export: one row per patient in home care, with
//! nothing that names or locates a person (issue 6, "bulk export without
//! personal data"). Names, kana, birth dates, addresses, phone numbers, key
//! persons, diagnoses and every free text are left out; ages are 5-year bands
//! and dates are months; the daily living area, then the age band, are
//! widened or hidden where fewer than [`MIN_GROUP`] rows would share them.
//! Which patients, and who may export, are decided by the app and the policy
//! (`policy::export_for_analysis`).

use crate::care::{EntryKind, TeamRole};
use crate::patient::{CareLevel, Outcome, PatientStatus, Place, Sex, SpecialCare};
use std::collections::HashMap;
use time::Date;

/// The fewest rows that may share an age band, sex and area (k-anonymity on
/// these three, the ones a neighbour could know).
pub const MIN_GROUP: usize = 5;

/// What the export knows of one patient before it is de-identified.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisPatient {
    pub birth_date: Date,
    pub sex: Sex,
    pub care_level: CareLevel,
    pub daily_living_area: Option<String>,
    pub special_care: Vec<SpecialCare>,
    pub status: PatientStatus,
    pub outcome: Option<Outcome>,
    pub outcome_date: Option<Date>,
    pub registered_on: Date,
    pub consent_on: Date,
    /// Every role the team has had (distinct).
    pub team_roles: Vec<TeamRole>,
    /// Timeline entries per kind.
    pub entries: HashMap<EntryKind, i64>,
    pub urgent_requests: i64,
    /// Urgent requests that ended in an admission.
    pub admissions: i64,
    /// The place of death wished in the current advance care plan.
    pub wished_place_of_death: Option<Place>,
}

/// One row of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeidentifiedRow {
    /// `75〜79歳`, widened (`75歳以上`) or `非表示` for a small group.
    pub age_band: String,
    /// The band was widened or hidden (a small group).
    pub age_widened: bool,
    pub sex: Sex,
    pub care_level: CareLevel,
    /// `None`: not recorded, or hidden for a small group ([`Self::area_hidden`]).
    pub area: Option<String>,
    pub area_hidden: bool,
    pub special_care: Vec<SpecialCare>,
    pub status: PatientStatus,
    pub outcome: Option<Outcome>,
    /// `YYYY-MM`.
    pub outcome_month: Option<String>,
    pub registered_month: String,
    pub consent_month: String,
    /// Whole months from consent to the end of care (or to the export).
    pub months_in_care: i64,
    pub team_roles: Vec<TeamRole>,
    pub entries: Vec<(EntryKind, i64)>,
    pub urgent_requests: i64,
    pub admissions: i64,
    pub wished_place_of_death: Option<Place>,
}

fn month(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// Age in whole years on `on`.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let had_birthday = (u8::from(on.month()), on.day()) >= (u8::from(birth.month()), birth.day());
    on.year() - birth.year() - i32::from(!had_birthday)
}

fn fine_band(age: i32) -> String {
    match age {
        a if a < 40 => "40歳未満".to_owned(),
        a if a < 65 => "40〜64歳".to_owned(),
        a if a >= 90 => "90歳以上".to_owned(),
        a => {
            let low = a - a % 5;
            format!("{low}〜{}歳", low + 4)
        }
    }
}

fn broad_band(age: i32) -> &'static str {
    match age {
        a if a < 65 => "65歳未満",
        a if a < 75 => "65〜74歳",
        _ => "75歳以上",
    }
}

/// Hidden: too few rows share it even widened.
pub const HIDDEN: &str = "非表示";

fn whole_months(from: Date, to: Date) -> i64 {
    let months = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(u8::from(to.month()))
        - i64::from(u8::from(from.month()));
    (months - i64::from(to.day() < from.day())).max(0)
}

/// De-identifies `patients` (in the order given: the caller shuffles them, so
/// that the order tells nothing) as of `today`.
pub fn deidentify(patients: &[AnalysisPatient], today: Date) -> Vec<DeidentifiedRow> {
    let ages: Vec<i32> = patients.iter().map(|p| age_on(p.birth_date, p.outcome_date.unwrap_or(today))).collect();
    let mut bands: Vec<String> = ages.iter().map(|a| fine_band(*a)).collect();
    let mut areas: Vec<Option<String>> = patients.iter().map(|p| p.daily_living_area.clone()).collect();
    let mut area_hidden = vec![false; patients.len()];

    // 1. An area shared by too few of the same age band and sex is hidden.
    let counts = count_by(patients.len(), |i| (bands[i].clone(), patients[i].sex, areas[i].clone()));
    for i in 0..patients.len() {
        if areas[i].is_some() && counts[&(bands[i].clone(), patients[i].sex, areas[i].clone())] < MIN_GROUP {
            areas[i] = None;
            area_hidden[i] = true;
        }
    }
    // 2. An age band shared by too few of the same sex and area is widened, then hidden.
    let counts = count_by(patients.len(), |i| (bands[i].clone(), patients[i].sex, areas[i].clone()));
    let widened: Vec<bool> = (0..patients.len())
        .map(|i| counts[&(bands[i].clone(), patients[i].sex, areas[i].clone())] < MIN_GROUP)
        .collect();
    for i in 0..patients.len() {
        if widened[i] {
            bands[i] = broad_band(ages[i]).to_owned();
        }
    }
    let counts = count_by(patients.len(), |i| (bands[i].clone(), patients[i].sex, areas[i].clone()));
    for i in 0..patients.len() {
        if counts[&(bands[i].clone(), patients[i].sex, areas[i].clone())] < MIN_GROUP {
            bands[i] = HIDDEN.to_owned();
        }
    }

    patients
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut roles = p.team_roles.clone();
            roles.sort_by_key(|r| TeamRole::ALL.iter().position(|x| x == r));
            roles.dedup();
            DeidentifiedRow {
                age_band: bands[i].clone(),
                age_widened: widened[i],
                sex: p.sex,
                care_level: p.care_level,
                area: areas[i].clone(),
                area_hidden: area_hidden[i],
                special_care: p.special_care.clone(),
                status: p.status,
                outcome: p.outcome,
                outcome_month: p.outcome_date.map(month),
                registered_month: month(p.registered_on),
                consent_month: month(p.consent_on),
                months_in_care: whole_months(p.consent_on, p.outcome_date.unwrap_or(today)),
                team_roles: roles,
                entries: EntryKind::ALL.iter().map(|k| (*k, p.entries.get(k).copied().unwrap_or(0))).collect(),
                urgent_requests: p.urgent_requests,
                admissions: p.admissions,
                wished_place_of_death: p.wished_place_of_death,
            }
        })
        .collect()
}

fn count_by<K: std::hash::Hash + Eq>(n: usize, key: impl Fn(usize) -> K) -> HashMap<K, usize> {
    let mut counts = HashMap::new();
    for i in 0..n {
        *counts.entry(key(i)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn patient(birth: Date, sex: Sex, area: Option<&str>) -> AnalysisPatient {
        AnalysisPatient {
            birth_date: birth,
            sex,
            care_level: CareLevel::Care3,
            daily_living_area: area.map(str::to_owned),
            special_care: vec![SpecialCare::HomeOxygen],
            status: PatientStatus::AtHome,
            outcome: None,
            outcome_date: None,
            registered_on: date!(2026 - 04 - 03),
            consent_on: date!(2026 - 04 - 05),
            team_roles: vec![TeamRole::VisitingNurse, TeamRole::PrimaryPhysician, TeamRole::VisitingNurse],
            entries: HashMap::from([(EntryKind::VisitRecord, 12)]),
            urgent_requests: 1,
            admissions: 0,
            wished_place_of_death: Some(Place::Home),
        }
    }

    const TODAY: Date = date!(2026 - 11 - 29);

    #[test]
    fn ages_count_whole_years_and_fall_into_bands() {
        assert_eq!(age_on(date!(1946 - 11 - 29), TODAY), 80);
        assert_eq!(age_on(date!(1946 - 11 - 30), TODAY), 79);
        assert_eq!(age_on(date!(2000 - 02 - 29), date!(2026 - 02 - 28)), 25);
        assert_eq!(
            [fine_band(39), fine_band(64), fine_band(65), fine_band(79), fine_band(90)],
            ["40歳未満", "40〜64歳", "65〜69歳", "75〜79歳", "90歳以上"]
        );
        assert_eq!(whole_months(date!(2026 - 04 - 05), date!(2026 - 11 - 04)), 6);
        assert_eq!(whole_months(date!(2026 - 04 - 05), date!(2026 - 11 - 05)), 7);
    }

    #[test]
    fn a_large_group_keeps_band_and_area_and_nothing_names_anyone() {
        let five: Vec<AnalysisPatient> = (0..5)
            .map(|i| {
                patient(
                    date!(1946 - 01 - 10).replace_day(10 + i).unwrap_or(date!(1946 - 01 - 10)),
                    Sex::Female,
                    Some("北部"),
                )
            })
            .collect();
        let rows = deidentify(&five, TODAY);
        assert!(rows.iter().all(|r| r.age_band == "80〜84歳" && r.area.as_deref() == Some("北部") && !r.area_hidden));
        let r = &rows[0];
        assert_eq!(
            (r.registered_month.as_str(), r.consent_month.as_str(), r.months_in_care),
            ("2026-04", "2026-04", 7)
        );
        assert_eq!(r.team_roles, [TeamRole::PrimaryPhysician, TeamRole::VisitingNurse], "distinct, in the usual order");
        assert_eq!(r.entries.len(), EntryKind::ALL.len());
        assert!(r.entries.contains(&(EntryKind::VisitRecord, 12)) && r.entries.contains(&(EntryKind::Urgent, 0)));
    }

    #[test]
    fn small_groups_lose_their_area_then_their_band() {
        let woman = |area| patient(date!(1946 - 01 - 10), Sex::Female, area);
        let mut many: Vec<AnalysisPatient> = (0..6).map(|_| woman(Some("北部"))).collect();
        // Four women of the same age whose area is not recorded, and one alone in 南部:
        // her area goes, and she is the fifth of their group.
        many.extend((0..4).map(|_| woman(None)));
        many.push(woman(Some("南部")));
        // Two men aged 67 and one aged 70: widened to 65〜74, still three: hidden.
        many.push(patient(date!(1959 - 01 - 10), Sex::Male, None));
        many.push(patient(date!(1959 - 01 - 10), Sex::Male, None));
        many.push(patient(date!(1956 - 01 - 10), Sex::Male, None));
        let rows = deidentify(&many, TODAY);
        assert!(rows[..6].iter().all(|r| r.area.as_deref() == Some("北部") && r.age_band == "80〜84歳"));
        assert_eq!(
            (rows[10].area.as_deref(), rows[10].area_hidden, rows[10].age_band.as_str()),
            (None, true, "80〜84歳")
        );
        assert!(!rows[6].area_hidden, "not recorded is not hidden");
        assert_eq!([rows[11].age_band.as_str(), rows[12].age_band.as_str(), rows[13].age_band.as_str()], [HIDDEN; 3]);

        // Five men of 65〜74 in all: widened, they stay in the export with the broad band.
        many.push(patient(date!(1957 - 01 - 10), Sex::Male, None));
        many.push(patient(date!(1958 - 01 - 10), Sex::Male, None));
        let rows = deidentify(&many, TODAY);
        assert!(rows[11..].iter().all(|r| r.age_band == "65〜74歳"), "{:?}", &rows[11..]);
    }

    #[test]
    fn the_end_of_care_fixes_the_age_and_the_months() {
        let mut p = patient(date!(1946 - 06 - 01), Sex::Female, None);
        p.status = PatientStatus::Ended;
        p.outcome = Some(Outcome::HomeDeath);
        p.outcome_date = Some(date!(2026 - 05 - 20));
        let rows = deidentify(&vec![p; 5], TODAY);
        assert_eq!(rows[0].age_band, "75〜79歳", "79 when care ended, though 80 today");
        assert_eq!((rows[0].outcome_month.as_deref(), rows[0].months_in_care), (Some("2026-05"), 1));
    }
}
