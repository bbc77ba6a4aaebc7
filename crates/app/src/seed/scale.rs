//! `tsunagu demo --patients N --entries M`: a synthetic history at the scale of
//! a whole city, to measure tsunagu against (see docs/performance.md).
//!
//! It is an import, not a replay of use cases: rows go straight into the
//! store in large batches, and one audit event records that it happened.
//! Every person in it is invented; staff accounts have no password and cannot
//! sign in.

use crate::{App, AppError, AuditActor, RequestMeta, audit_record};
use serde_json::json;
use time::OffsetDateTime;
use tsunagu_domain::ValidationError;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::ids::MunicipalityId;
use tsunagu_domain::patient::{CareLevel, PatientStatus, Sex};
use tsunagu_domain::text::search_key;
use tsunagu_store::{AccountRow, ConsentRow, NewEntry, NewTeamMember, PatientRow};
use uuid::Uuid;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSpec {
    pub patients: usize,
    pub entries: usize,
}

impl ScaleSpec {
    /// The largest run this command accepts (10× the benchmark's target).
    pub const MAX_ENTRIES: usize = 50_000_000;

    pub fn parse(patients: usize, entries: usize) -> Result<Self, ValidationError> {
        if patients == 0 || patients > 1_000_000 {
            return Err(ValidationError::new("patients", "out_of_range"));
        }
        if entries > Self::MAX_ENTRIES {
            return Err(ValidationError::new("entries", "out_of_range"));
        }
        Ok(Self { patients, entries })
    }

    /// Staff accounts: one per 25 patients of each of three professions, at
    /// least one each (a nurse in Kashiwa visits a few dozen patients).
    pub fn staff_per_profession(&self) -> usize {
        self.patients.div_ceil(25).max(1)
    }

    /// How many entries patient `index` gets: the total spread evenly.
    pub fn entries_of(&self, index: usize) -> usize {
        self.entries / self.patients + usize::from(index < self.entries % self.patients)
    }
}

/// What was generated, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleReport {
    pub municipality_id: Uuid,
    pub patients: usize,
    pub entries: usize,
    pub staff: usize,
}

const FAMILY_NAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("柏木", "カシワギ"),
];

const GIVEN_NAMES: &[(&str, &str)] = &[
    ("トメ", "トメ"),
    ("ハル", "ハル"),
    ("キヨ", "キヨ"),
    ("正男", "マサオ"),
    ("清", "キヨシ"),
    ("和子", "カズコ"),
    ("茂", "シゲル"),
    ("幸子", "サチコ"),
    ("勇", "イサム"),
    ("節子", "セツコ"),
    ("博", "ヒロシ"),
    ("久子", "ヒサコ"),
];

const VISIT_NOTES: &[&str] = &[
    "定期訪問。表情穏やか。食事は半量摂取。水分摂取を促した。",
    "仙骨部の褥瘡、発赤範囲縮小。洗浄後に被覆材を交換。",
    "夜間の不眠あり。日中の離床時間を増やすよう家族と相談。",
    "入浴介助。皮膚状態良好。下肢の浮腫は軽度。",
    "服薬カレンダー確認、飲み忘れなし。便秘傾向のため水分量を確認。",
    "在宅酸素2L継続。労作時の息切れあり、休みながら移動できている。",
    "胃ろう周囲の皮膚に発赤なし。注入は予定どおり。",
    "疼痛スケール2。レスキュー使用なし。本人「楽になった」と。",
];

const MESSAGES: &[&str] = &[
    "来週の訪問日を水曜に変更したいです。ご都合いかがでしょうか。",
    "ご家族より、ショートステイ利用の相談がありました。",
    "福祉用具（エアマット）の変更を検討しています。",
    "先日の採血結果を共有します。大きな変化はありません。",
];

const MEDICATION_CHANGES: &[&str] = &[
    "酸化マグネシウムを1日2回から3回に増量。",
    "就寝前の睡眠薬を中止し、経過をみます。",
    "疼痛時の頓用薬を追加しました。",
];

impl App {
    /// Generates a synthetic history in the demo municipality (created first
    /// if it is missing). Refuses to run twice on one database.
    pub async fn generate_scale(
        &self,
        spec: ScaleSpec,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ScaleReport, AppError> {
        self.create_demo().await?;
        let mut tx = self.store.begin_read().await?;
        let municipality = tx.municipality_by_code("122173").await?.ok_or(AppError::NotFound)?;
        if tx.account_by_login("scale.nurse.0").await?.is_some() {
            return Err(AppError::Conflict { field: "scale" });
        }
        drop(tx);
        let now = self.now();
        let history_start = now - time::Duration::days(365);
        let staff = self.generate_staff(municipality.id, spec.staff_per_profession(), history_start).await?;
        self.generate_groups(municipality.id, &staff.physicians, now).await?;

        // First every patient with consent and team, then the entries round by
        // round across patients (each patient's n-th entry, then the (n+1)-th):
        // in time order, as a real history is written, so that one patient's
        // newest entries lie on many pages among everyone else's, not in a run
        // of their own (which flattered the timeline read).
        let mut teams: Vec<(Uuid, [(Uuid, &'static str); 4])> = Vec::with_capacity(spec.patients);
        let mut tx = self.begin().await?;
        for index in 0..spec.patients {
            let team = [
                (round_robin(&staff.physicians, index), "primary_physician"),
                (round_robin(&staff.physicians, index + 1), "backup_physician"),
                (round_robin(&staff.nurses, index), "visiting_nurse"),
                (round_robin(&staff.care_managers, index), "care_manager"),
            ];
            let patient = synthetic_patient(index, municipality.id, team[2].0, history_start);
            tx.insert_patient(&patient).await?;
            tx.insert_consent(&ConsentRow {
                id: Uuid::now_v7(),
                patient_id: patient.id,
                given_on: history_start.date(),
                method: if index % 3 == 0 { "verbal" } else { "written" }.into(),
                proxy_name: None,
                proxy_relation: None,
                scope: "在宅療養に関わる多職種での情報共有".into(),
                recorded_by: team[2].0,
                recorded_at: history_start,
                withdrawn_at: None,
                withdrawn_by: None,
                withdrawal_reason: None,
                document_entry_id: None,
            })
            .await?;
            for (account_id, team_role) in team {
                tx.insert_team_member(&NewTeamMember {
                    id: Uuid::now_v7(),
                    patient_id: patient.id,
                    account_id,
                    team_role: team_role.into(),
                    added_by: team[2].0,
                    joined_at: history_start,
                })
                .await?;
            }
            teams.push((patient.id, team));
            if index % 2_000 == 1_999 {
                tx.commit().await?;
                tx = self.begin().await?;
            }
        }
        let mut written = 0;
        let mut entries = Vec::with_capacity(20_000);
        let rounds = (0..spec.patients).map(|i| spec.entries_of(i)).max().unwrap_or(0);
        for n in 0..rounds {
            for (index, (patient, team)) in teams.iter().enumerate() {
                let count = spec.entries_of(index);
                if n >= count {
                    continue;
                }
                entries.push(synthetic_entry(*patient, team, n, count, history_start, now));
                if entries.len() >= 20_000 {
                    tx.insert_entries(&entries).await?;
                    written += entries.len();
                    entries.clear();
                    tx.commit().await?;
                    progress(written);
                    tx = self.begin().await?;
                }
            }
        }
        tx.insert_entries(&entries).await?;
        written += entries.len();
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu demo".into()) };
        let actor = AuditActor { account_id: None, label: "tsunagu demo", meta: &meta };
        tx.append_audit(&audit_record(
            self.now(),
            Some(MunicipalityId(municipality.id)),
            &actor,
            AuditAction::SyntheticDataGenerated,
            "municipality",
            Some(municipality.id),
            json!({ "patients": spec.patients, "entries": written, "staff": staff.total() }),
        ))
        .await?;
        tx.commit().await?;
        progress(written);
        self.store.optimize_after_import(&[]).await?;
        Ok(ScaleReport {
            municipality_id: municipality.id,
            patients: spec.patients,
            entries: written,
            staff: staff.total(),
        })
    }

    /// Physician groups of ten with this month's and next month's rosters
    /// filled in turn, and one physician in twenty away for the coming week:
    /// what "who answers now" and the coverage view work through.
    async fn generate_groups(
        &self,
        municipality: Uuid,
        physicians: &[Uuid],
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        use tsunagu_domain::ids::AccountId;
        use tsunagu_domain::on_call::{self, Shift};
        let today = now.to_offset(tsunagu_domain::clock::JST).date();
        let next = if today.month() == time::Month::December {
            (today.year() + 1, time::Month::January)
        } else {
            (today.year(), today.month().next())
        };
        let mut tx = self.begin().await?;
        for (g, members) in physicians.chunks(10).enumerate() {
            // The first member coordinates (a chunk is never empty).
            let Some(&coordinator) = members.first() else { continue };
            let group = tsunagu_store::PhysicianGroupRow {
                id: Uuid::now_v7(),
                municipality_id: municipality,
                name: format!("合成グループ {g}"),
                area: String::new(),
                coordinator_id: Some(coordinator),
                created_at: now,
            };
            tx.insert_physician_group(&group).await?;
            for (i, m) in members.iter().enumerate() {
                tx.upsert_group_member(group.id, *m, Some(&format!("090-0000-{:04}", (g * 10 + i) % 10_000)), now)
                    .await?;
            }
            let ids: Vec<AccountId> = members.iter().copied().map(AccountId).collect();
            for (year, month) in [(today.year(), today.month()), next] {
                let empty: Vec<Shift> = on_call::roster_slots(year, month)
                    .iter()
                    .map(|s| Shift { span: s.span, physician: None })
                    .collect();
                for (slot, shift) in
                    on_call::roster_slots(year, month).iter().zip(on_call::fill_holes(&empty, &ids, &[]))
                {
                    tx.upsert_shift(&tsunagu_store::ShiftRow {
                        group_id: group.id,
                        starts_at: slot.span.start,
                        ends_at: slot.span.end,
                        kind: slot.kind.code().to_owned(),
                        account_id: shift.physician.map(|p| p.0),
                        updated_by: coordinator,
                        updated_at: now,
                    })
                    .await?;
                }
            }
        }
        for (i, p) in physicians.iter().enumerate().filter(|(i, _)| i % 20 == 0) {
            tx.insert_absence(&tsunagu_store::AbsenceRow {
                id: Uuid::now_v7(),
                account_id: *p,
                starts_at: now - time::Duration::hours(1),
                ends_at: now + time::Duration::days(7),
                reason: if i % 40 == 0 { "conference" } else { "leave" }.into(),
                note: String::new(),
                created_by: *p,
                created_at: now,
                cancelled_at: None,
            })
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn generate_staff(
        &self,
        municipality: Uuid,
        per_profession: usize,
        at: OffsetDateTime,
    ) -> Result<Staff, AppError> {
        let mut staff = Staff::default();
        let mut tx = self.begin().await?;
        for n in 0..per_profession {
            for (profession, login, name) in
                [("physician", "doctor", "医師"), ("nurse", "nurse", "看護師"), ("care_manager", "cm", "ケアマネ")]
            {
                let id = Uuid::now_v7();
                tx.insert_account(&AccountRow {
                    id,
                    municipality_id: Some(municipality),
                    login_id: format!("scale.{login}.{n}"),
                    display_name: format!("{name} {n}"),
                    display_name_kana: None,
                    email: None,
                    profession: tsunagu_domain::account::Profession::parse(profession)
                        .unwrap_or(tsunagu_domain::account::Profession::Other),
                    roles: String::new(),
                    status: tsunagu_domain::account::AccountStatus::Active,
                    password_hash: None,
                    totp_secret: None,
                    totp_last_step: None,
                    language: "ja".into(),
                    created_at: at,
                    updated_at: at,
                })
                .await?;
                match profession {
                    "physician" => staff.physicians.push(id),
                    "nurse" => staff.nurses.push(id),
                    _ => staff.care_managers.push(id),
                }
            }
        }
        tx.commit().await?;
        Ok(staff)
    }
}

#[derive(Default)]
struct Staff {
    physicians: Vec<Uuid>,
    nurses: Vec<Uuid>,
    care_managers: Vec<Uuid>,
}

impl Staff {
    fn total(&self) -> usize {
        self.physicians.len() + self.nurses.len() + self.care_managers.len()
    }
}

/// Item `n` of a list, round and round (the lists here are never empty).
fn round_robin<T: Copy + Default>(list: &[T], n: usize) -> T {
    n.checked_rem(list.len()).and_then(|i| list.get(i)).copied().unwrap_or_default()
}

fn synthetic_patient(index: usize, municipality: Uuid, created_by: Uuid, at: OffsetDateTime) -> PatientRow {
    // Names from a mix of the index, not the index itself: a caseload is every
    // n-th patient, and `index % 16` would give one nurse's 25 patients all the
    // same family name whenever n is a multiple of 16.
    let mixed = (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    let (family, family_kana) = round_robin(FAMILY_NAMES, (mixed % FAMILY_NAMES.len() as u64) as usize);
    let (given, given_kana) = round_robin(GIVEN_NAMES, ((mixed >> 8) % GIVEN_NAMES.len() as u64) as usize);
    let birth_year = 1925 + i32::try_from(index % 30).unwrap_or(0);
    let birth_date = time::Date::from_calendar_date(birth_year, time::Month::April, 1 + (index % 28) as u8)
        .unwrap_or(time::macros::date!(1940 - 04 - 01));
    PatientRow {
        id: Uuid::now_v7(),
        municipality_id: municipality,
        created_by,
        family_name: family.into(),
        given_name: given.into(),
        family_name_kana: family_kana.into(),
        given_name_kana: given_kana.into(),
        search_key: search_key(&format!("{family}{given}{family_kana}{given_kana}")),
        birth_date,
        sex: if index.is_multiple_of(3) { Sex::Male } else { Sex::Female },
        address: format!("千葉県柏市豊四季台{}丁目{}-{}", 1 + index % 4, 1 + index % 30, 1 + index % 12),
        daily_living_area: None,
        phone: None,
        key_person: None,
        key_person_phone: None,
        care_level: [
            CareLevel::Care1,
            CareLevel::Care2,
            CareLevel::Care3,
            CareLevel::Care4,
            CareLevel::Care5,
            CareLevel::Support2,
        ]
        .get(index % 6)
        .copied()
        .unwrap_or(CareLevel::Care1),
        main_diagnoses: Some(round_robin(&["心不全", "脳梗塞後遺症", "COPD", "認知症", "膵がん"], index).into()),
        allergies: None,
        special_care: String::new(),
        status: PatientStatus::AtHome,
        outcome: None,
        outcome_date: None,
        created_at: at,
        updated_at: at,
    }
}

/// Entry `n` of `count`, spread evenly over the history, authored in turn by the team.
fn synthetic_entry(
    patient: Uuid,
    team: &[(Uuid, &str); 4],
    n: usize,
    count: usize,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> NewEntry {
    let span = (end - start).whole_minutes().max(1);
    let minute = span * i64::try_from(n).unwrap_or(0) / i64::try_from(count).unwrap_or(1).max(1);
    let (author, _) = round_robin(&[team[2], team[2], team[2], team[0], team[3]], n);
    let (kind, body, vitals) = match n % 8 {
        0..=3 => ("visit_record", round_robin(VISIT_NOTES, n), String::from("{}")),
        4 | 5 => (
            "vitals",
            "",
            json!({
                "temperature_c": 36.0 + (n % 12) as f64 / 10.0,
                "systolic": 110 + (n % 40),
                "diastolic": 60 + (n % 25),
                "pulse": 60 + (n % 30),
                "spo2": 93 + (n % 6),
            })
            .to_string(),
        ),
        6 => ("message", round_robin(MESSAGES, n), String::from("{}")),
        _ => ("medication_change", round_robin(MEDICATION_CHANGES, n), String::from("{}")),
    };
    NewEntry {
        id: Uuid::now_v7(),
        patient_id: patient,
        kind: kind.into(),
        author_id: author,
        reply_to: None,
        needs_reply: false,
        created_at: start + time::Duration::minutes(minute),
        body: body.into(),
        vitals,
        audience: "team".into(),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // any real "now" will do in these tests
mod tests {
    use super::*;

    #[test]
    fn entries_are_spread_over_patients_without_losing_any() {
        let spec = ScaleSpec::parse(7, 100).unwrap();
        let total: usize = (0..7).map(|i| spec.entries_of(i)).sum();
        assert_eq!(total, 100);
        assert_eq!((spec.entries_of(0), spec.entries_of(6)), (15, 14));
        assert_eq!(ScaleSpec::parse(100_000, 5_000_000).unwrap().staff_per_profession(), 4_000);
    }

    #[test]
    fn one_nurses_caseload_has_varied_names() {
        // The generator gives nurse k every patient k + n * 4,000 (100,000 patients).
        let at = OffsetDateTime::now_utc();
        let caseload: Vec<PatientRow> =
            (0..25).map(|j| synthetic_patient(7 + j * 4_000, Uuid::nil(), Uuid::nil(), at)).collect();
        let families: std::collections::HashSet<&str> = caseload.iter().map(|p| p.family_name.as_str()).collect();
        let full: std::collections::HashSet<(&str, &str)> =
            caseload.iter().map(|p| (p.family_name.as_str(), p.given_name.as_str())).collect();
        assert!(families.len() >= 10, "{families:?}");
        assert!(full.len() >= 20, "{full:?}");
    }

    #[test]
    fn absurd_sizes_are_refused() {
        assert!(ScaleSpec::parse(0, 10).is_err());
        assert!(ScaleSpec::parse(10, ScaleSpec::MAX_ENTRIES + 1).is_err());
    }

    #[test]
    fn generated_vitals_pass_the_same_validation_as_typed_ones() {
        let now = OffsetDateTime::now_utc();
        let team = [
            (Uuid::nil(), "primary_physician"),
            (Uuid::nil(), "backup_physician"),
            (Uuid::nil(), "visiting_nurse"),
            (Uuid::nil(), "cm"),
        ];
        for n in 0..200 {
            let e = synthetic_entry(Uuid::nil(), &team, n, 200, now - time::Duration::days(1), now);
            let stored: tsunagu_domain::care::VitalSigns = serde_json::from_str(&e.vitals).unwrap();
            let text = |v: Option<String>| v.unwrap_or_default();
            let (t, s, d, p, o) = (
                text(stored.temperature_c.map(|v| v.to_string())),
                text(stored.systolic.map(|v| v.to_string())),
                text(stored.diastolic.map(|v| v.to_string())),
                text(stored.pulse.map(|v| v.to_string())),
                text(stored.spo2.map(|v| v.to_string())),
            );
            let form = tsunagu_domain::care::VitalsForm {
                temperature_c: &t,
                systolic: &s,
                diastolic: &d,
                pulse: &p,
                spo2: &o,
                ..Default::default()
            };
            let typed = tsunagu_domain::care::VitalSigns::parse(&form).unwrap();
            assert_eq!(typed, stored);
            assert!(e.created_at <= now);
        }
    }
}
