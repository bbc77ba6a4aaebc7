//! `tsunagu demo`: a synthetic municipality network to try tsunagu with.
//! Kashiwa's code and name are real; every person and facility here is invented.

use crate::{App, AppError, AuditActor, RequestMeta};
use tsunagu_domain::account::NewAccount;
use tsunagu_domain::facility::FacilityForm;
use tsunagu_domain::ids::{FacilityId, MunicipalityId, PatientId};
use tsunagu_domain::municipality::NewMunicipality;

/// One account the demo created.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub login_id: String,
    pub display_name: String,
    pub profession: String,
    pub roles: String,
    pub facility: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub already_present: bool,
    pub municipalities: Vec<(String, String)>,
    pub accounts: Vec<DemoAccount>,
    pub password: &'static str,
}

/// The password of every demo account. Demo data only.
pub const DEMO_PASSWORD: &str = "tsunagu-demo-2026";

struct Facility {
    kind: &'static str,
    name: &'static str,
    kana: &'static str,
    postal: &'static str,
    address: &'static str,
    phone: &'static str,
    lat: &'static str,
    lng: &'static str,
}

const KASHIWA_FACILITIES: &[Facility] = &[
    Facility {
        kind: "clinic",
        name: "つなぐ在宅クリニック",
        kana: "ツナグザイタククリニック",
        postal: "277-0005",
        address: "千葉県柏市柏4丁目8-1",
        phone: "04-7100-0101",
        lat: "35.8627",
        lng: "139.9745",
    },
    Facility {
        kind: "clinic",
        name: "豊四季台ファミリークリニック",
        kana: "トヨシキダイファミリークリニック",
        postal: "277-0845",
        address: "千葉県柏市豊四季台1丁目2-3",
        phone: "04-7100-0102",
        lat: "35.8604",
        lng: "139.9528",
    },
    Facility {
        kind: "clinic",
        name: "柏の葉ホームケア診療所",
        kana: "カシワノハホームケアシンリョウジョ",
        postal: "277-0871",
        address: "千葉県柏市若柴178-4",
        phone: "04-7100-0103",
        lat: "35.8935",
        lng: "139.9525",
    },
    Facility {
        kind: "hospital",
        name: "柏みなみ総合病院",
        kana: "カシワミナミソウゴウビョウイン",
        postal: "277-0861",
        address: "千葉県柏市高田1002",
        phone: "04-7100-0201",
        lat: "35.8801",
        lng: "139.9634",
    },
    Facility {
        kind: "dental_clinic",
        name: "手賀沼訪問歯科",
        kana: "テガヌマホウモンシカ",
        postal: "277-0825",
        address: "千葉県柏市布施1500-2",
        phone: "04-7100-0301",
        lat: "35.8902",
        lng: "140.0051",
    },
    Facility {
        kind: "pharmacy",
        name: "さくら薬局 柏駅前店",
        kana: "サクラヤッキョクカシワエキマエテン",
        postal: "277-0852",
        address: "千葉県柏市旭町1丁目1-5",
        phone: "04-7100-0401",
        lat: "35.8598",
        lng: "139.9690",
    },
    Facility {
        kind: "home_nursing_station",
        name: "訪問看護ステーションつなぐ",
        kana: "ホウモンカンゴステーションツナグ",
        postal: "277-0005",
        address: "千葉県柏市柏1丁目5-10",
        phone: "04-7100-0501",
        lat: "35.8615",
        lng: "139.9726",
    },
    Facility {
        kind: "home_nursing_station",
        name: "ひまわり訪問看護ステーション",
        kana: "ヒマワリホウモンカンゴステーション",
        postal: "277-0882",
        address: "千葉県柏市柏の葉3丁目1-1",
        phone: "04-7100-0502",
        lat: "35.8990",
        lng: "139.9590",
    },
    Facility {
        kind: "care_management_office",
        name: "ケアプランセンターかしわ",
        kana: "ケアプランセンターカシワ",
        postal: "277-0011",
        address: "千葉県柏市東上町3-2",
        phone: "04-7100-0601",
        lat: "35.8650",
        lng: "139.9770",
    },
    Facility {
        kind: "home_help_office",
        name: "ヘルパーステーションみどり",
        kana: "ヘルパーステーションミドリ",
        postal: "277-0033",
        address: "千葉県柏市増尾2丁目4-8",
        phone: "04-7100-0701",
        lat: "35.8352",
        lng: "139.9812",
    },
    Facility {
        kind: "community_support_center",
        name: "豊四季台地域包括支援センター",
        kana: "トヨシキダイチイキホウカツシエンセンター",
        postal: "277-0845",
        address: "千葉県柏市豊四季台1丁目1-118",
        phone: "04-7100-0801",
        lat: "35.8590",
        lng: "139.9545",
    },
    Facility {
        kind: "coordination_center",
        name: "柏地域医療連携センター（デモ）",
        kana: "カシワチイキイリョウレンケイセンター",
        postal: "277-0004",
        address: "千葉県柏市柏下65-1",
        phone: "04-7100-0901",
        lat: "35.8642",
        lng: "139.9847",
    },
    Facility {
        kind: "municipal_office",
        name: "柏市 地域医療推進課（デモ）",
        kana: "カシワシチイキイリョウスイシンカ",
        postal: "277-8505",
        address: "千葉県柏市柏5丁目10-1",
        phone: "04-7100-1001",
        lat: "35.8678",
        lng: "139.9757",
    },
];

/// (login, name, kana, profession, roles, index of the facility they work at)
type DemoPerson = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], Option<usize>);

const KASHIWA_PEOPLE: &[DemoPerson] = &[
    ("city.admin", "柏木 市子", "カシワギ イチコ", "municipal_officer", &["municipality_admin"], Some(12)),
    ("center.coord", "連携 まどか", "レンケイ マドカ", "medical_social_worker", &["coordinator"], Some(11)),
    ("dr.sato", "佐藤 一郎", "サトウ イチロウ", "physician", &["facility_admin"], Some(0)),
    ("dr.suzuki", "鈴木 二郎", "スズキ ジロウ", "physician", &[], Some(1)),
    ("ns.tanaka", "田中 花子", "タナカ ハナコ", "nurse", &["facility_admin"], Some(6)),
    ("ns.ito", "伊藤 さくら", "イトウ サクラ", "nurse", &[], Some(6)),
    ("cm.yamamoto", "山本 ケイ", "ヤマモト ケイ", "care_manager", &[], Some(8)),
    ("ph.kobayashi", "小林 薫", "コバヤシ カオル", "pharmacist", &[], Some(5)),
    ("dt.kato", "加藤 歯子", "カトウ ハコ", "dentist", &[], Some(4)),
    ("msw.watanabe", "渡辺 つぐみ", "ワタナベ ツグミ", "medical_social_worker", &[], Some(3)),
    ("hh.nakamura", "中村 ゆい", "ナカムラ ユイ", "home_helper", &[], Some(9)),
];

impl App {
    /// Creates the demo network unless it is already there.
    pub async fn create_demo(&self) -> Result<DemoSummary, AppError> {
        let mut tx = self.store.begin_read().await?;
        let already_present = tx.municipality_by_code("122173").await?.is_some();
        drop(tx);
        let mut summary =
            DemoSummary { already_present, municipalities: vec![], accounts: vec![], password: DEMO_PASSWORD };
        summary.municipalities = vec![("122173".into(), "柏市".into()), ("122203".into(), "流山市".into())];
        if !already_present {
            self.populate_demo(&mut summary).await?;
        }
        Ok(summary)
    }

    async fn populate_demo(&self, summary: &mut DemoSummary) -> Result<(), AppError> {
        let meta = RequestMeta::default();
        let actor = AuditActor { account_id: None, label: "demo", meta: &meta };
        let kashiwa = self.insert_municipality(&NewMunicipality::parse("122173", "柏市")?, &actor).await?;
        let mut facility_ids = Vec::new();
        for f in KASHIWA_FACILITIES {
            let form = FacilityForm {
                kind: f.kind,
                name: f.name,
                name_kana: f.kana,
                postal_code: f.postal,
                address: f.address,
                phone: f.phone,
                latitude: f.lat,
                longitude: f.lng,
                ..FacilityForm::default()
            };
            facility_ids.push((self.insert_facility(kashiwa.id, &form, &actor).await?.id, f.name));
        }
        self.demo_account(
            summary,
            None,
            ("operator", "運用 太郎", "ウンヨウ タロウ", "clerk", &["operator"], None),
            &[],
            &actor,
        )
        .await?;
        for person in KASHIWA_PEOPLE {
            self.demo_account(summary, Some(kashiwa.id), *person, &facility_ids, &actor).await?;
        }
        self.demo_patients().await?;
        self.demo_backup_system().await?;
        self.demo_public_pages().await?;
        self.demo_desk().await?;
        // A second municipality shows that tenants never see each other.
        let nagareyama = self.insert_municipality(&NewMunicipality::parse("122203", "流山市")?, &actor).await?;
        let form = FacilityForm {
            kind: "municipal_office",
            name: "流山市 介護支援課（デモ）",
            address: "千葉県流山市平和台1丁目1-1",
            latitude: "35.8563",
            longitude: "139.9026",
            ..FacilityForm::default()
        };
        let office = self.insert_facility(nagareyama.id, &form, &actor).await?;
        let others = [(office.id, "流山市 介護支援課（デモ）")];
        self.demo_account(
            summary,
            Some(nagareyama.id),
            (
                "nagareyama.admin",
                "流山 太郎",
                "ナガレヤマ タロウ",
                "municipal_officer",
                &["municipality_admin"],
                Some(0),
            ),
            &others,
            &actor,
        )
        .await?;
        Ok(())
    }

    /// Acts as a demo person (the demo is trusted shell code; audit events name them,
    /// with "tsunagu demo" as the user agent).
    pub(super) async fn demo_session(&self, login: &str) -> Result<crate::Session, AppError> {
        let mut tx = self.store.begin_read().await?;
        let row = tx.account_by_login(login).await?.ok_or(AppError::NotFound)?;
        let account = crate::sessions::load_account(tx.as_mut(), row).await?;
        Ok(crate::Session {
            token_hash: Vec::new(),
            stage: crate::SessionStage::Full,
            csrf_token: String::new(),
            audit_label: account.login_id.clone(),
            account,
            expires_at: self.now(),
            scopes: None,
            client: None,
        })
    }

    /// A few synthetic patients cared for by the demo team, with a short history.
    async fn demo_patients(&self) -> Result<(), AppError> {
        use crate::patients::{ConsentForm, parse_entry};
        use tsunagu_domain::care::VitalsForm;
        use tsunagu_domain::patient::PatientForm;
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu demo".into()) };
        let nurse = self.demo_session("ns.tanaka").await?;
        let doctor = self.demo_session("dr.sato").await?;
        let patients = [
            (
                "柏木",
                "トメ",
                "カシワギ",
                "トメ",
                "1936-05-12",
                "female",
                "千葉県柏市豊四季台1丁目3-5",
                "care_4",
                "慢性心不全、高血圧",
                "home_oxygen,pressure_ulcer",
            ),
            (
                "増尾",
                "勝",
                "マスオ",
                "マサル",
                "1941-11-03",
                "male",
                "千葉県柏市増尾3丁目2-10",
                "care_2",
                "膵臓がん（在宅緩和ケア）",
                "opioid_pain",
            ),
            (
                "若柴",
                "ハル",
                "ワカシバ",
                "ハル",
                "1930-01-20",
                "female",
                "千葉県柏市若柴200",
                "care_5",
                "脳梗塞後遺症、誤嚥性肺炎の既往",
                "gastrostomy,dementia",
            ),
        ];
        for (family, given, family_kana, given_kana, birth, sex, address, care, diagnoses, special) in patients {
            let form = PatientForm {
                family_name: family,
                given_name: given,
                family_name_kana: family_kana,
                given_name_kana: given_kana,
                birth_date: birth,
                sex,
                address,
                care_level: care,
                main_diagnoses: diagnoses,
                daily_living_area: "柏中央",
                special_care: special.split(',').collect(),
                ..PatientForm::default()
            };
            let p = self.register_patient(&nurse, &form, "visiting_nurse", &meta).await?;
            let consent = ConsentForm {
                given_on: "2026-11-01",
                method: "written",
                proxy_name: "",
                proxy_relation: "",
                scope: "在宅療養に関わるケアチーム内での情報共有",
            };
            self.record_consent(&nurse, PatientId(p.id), &consent, None, &meta).await?;
            for (login, role) in [
                ("dr.sato", "primary_physician"),
                ("dr.suzuki", "backup_physician"),
                ("cm.yamamoto", "care_manager"),
                ("ph.kobayashi", "pharmacist"),
            ] {
                self.add_team_member(&nurse, PatientId(p.id), login, role, &meta).await?;
            }
            let vitals = VitalsForm {
                temperature_c: "36.8",
                systolic: "132",
                diastolic: "78",
                pulse: "76",
                spo2: "95",
                ..VitalsForm::default()
            };
            let visit = parse_entry(
                "visit_record",
                "定期訪問。表情穏やか。食事は半量摂取。水分摂取を促した。",
                &vitals,
                false,
            )?;
            self.post_entry(&nurse, PatientId(p.id), &visit, None, &[], &meta).await?;
            let question = parse_entry(
                "message",
                "夜間の不眠の訴えあり。眠剤の調整についてご相談させてください。",
                &VitalsForm::default(),
                true,
            )?;
            let asked = self.post_entry(&nurse, PatientId(p.id), &question, None, &[], &meta).await?;
            let answer = parse_entry(
                "message",
                "次回往診時に確認します。それまで現行処方で様子をみてください。",
                &VitalsForm::default(),
                false,
            )?;
            self.post_entry(&doctor, PatientId(p.id), &answer, Some(asked), &[], &meta).await?;
        }
        Ok(())
    }

    /// A physician group with this month's and next month's roster filled in
    /// turn, and the demo hospital taking part in hospital backup.
    async fn demo_backup_system(&self) -> Result<(), AppError> {
        use crate::on_call::GroupForm;
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu demo".into()) };
        let admin = self.demo_session("city.admin").await?;
        let form = GroupForm {
            name: "柏中央在宅医グループ", area: "柏中央・豊四季台", coordinator_login: "dr.sato"
        };
        let group = self.create_physician_group(&admin, &form, &meta).await?;
        self.add_group_member(&admin, group, "dr.sato", "090-0000-0101", &meta).await?;
        self.add_group_member(&admin, group, "dr.suzuki", "090-0000-0102", &meta).await?;
        let today = self.now().to_offset(tsunagu_domain::clock::JST).date();
        let next = if today.month() == time::Month::December {
            (today.year() + 1, time::Month::January)
        } else {
            (today.year(), today.month().next())
        };
        for (year, month) in [(today.year(), today.month()), next] {
            let code = format!("{year:04}-{:02}", u8::from(month));
            self.save_roster(&admin, group, &code, &[], true, &meta).await?;
        }
        let ward = self.demo_session("msw.watanabe").await?;
        let hospital = ward.account.memberships.first().map(|m| m.facility_id.0).ok_or(AppError::NotFound)?;
        self.update_backup_beds(&ward, hospital, true, "2", "個室2床（夜間は当直医が判断）", &meta).await?;
        Ok(())
    }

    /// The city's page for citizens: an article and a talk three weeks ahead.
    async fn demo_public_pages(&self) -> Result<(), AppError> {
        use tsunagu_domain::public_pages::{ArticleDraft, PublicEventDraft, PublicEventForm};
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu demo".into()) };
        let admin = self.demo_session("city.admin").await?;
        let article = ArticleDraft::parse(
            "家で療養するという選択（サンプル記事）",
            "# 在宅医療とは\n\n通院が難しくなっても、医師や看護師が**ご自宅に伺って**診療や看護を行います。\n\n\
             - 訪問診療: 計画を立てて定期的に伺います\n- 往診: 急に具合が悪くなったときに伺います\n- 訪問看護: 看護師が療養を支えます\n\n\
             ご相談は地域医療連携センターへ。近くの診療所や訪問看護ステーションは[在宅医療マップ](/m/122173/map)で探せます。",
            true,
        )?;
        self.save_article(&admin, None, &article, &meta).await?;
        let day = (self.now().to_offset(tsunagu_domain::clock::JST).date() + time::Duration::days(21)).to_string();
        let talk = PublicEventDraft::parse(&PublicEventForm {
            title: "在宅医療市民講座「住み慣れた家で最期まで」（サンプル）",
            date: &day,
            starts: "13:30",
            ends: "15:00",
            place: "柏市役所 本庁舎（架空）",
            description: "申込は不要です。在宅医と訪問看護師がお話しします。",
        })?;
        self.save_public_event(&admin, None, &talk, &meta).await?;
        Ok(())
    }

    async fn demo_account(
        &self,
        summary: &mut DemoSummary,
        municipality: Option<MunicipalityId>,
        (login, name, kana, profession, roles, facility): DemoPerson,
        facilities: &[(FacilityId, &str)],
        actor: &AuditActor<'_>,
    ) -> Result<(), AppError> {
        // example.jp is reserved for examples: these addresses reach nobody.
        let email = format!("{login}@example.jp");
        let new = NewAccount::parse(login, name, kana, &email, profession, roles)?;
        let facility = facility.and_then(|i| facilities.get(i));
        let issued = self.insert_invited_account(municipality, &new, facility.map(|f| f.0), actor).await?;
        self.redeem_invitation(&issued.code, login, DEMO_PASSWORD, &RequestMeta::default()).await?;
        summary.accounts.push(DemoAccount {
            login_id: login.to_owned(),
            display_name: name.to_owned(),
            profession: new.profession.label_ja().to_owned(),
            roles: new
                .roles
                .iter()
                .filter(|r| **r != tsunagu_domain::account::Role::Professional)
                .map(|r| r.label_ja())
                .collect::<Vec<_>>()
                .join("・"),
            facility: facility.map(|f| f.1.to_owned()),
        });
        Ok(())
    }
}
