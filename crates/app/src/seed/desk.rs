//! The demo's coordination centre: facility profiles for the ranking, a few
//! consultations in different states, and a discharge request half-way
//! (the home doctor has accepted, the visiting nurse has yet to answer, no
//! care manager asked yet), so that a first-time user sees the desk working.
//! Every person here is invented.

use crate::{App, AppError, RequestMeta};
use tsunagu_domain::coordination::{ConsultationForm, HandoverForm};
use tsunagu_domain::ids::FacilityId;
use tsunagu_domain::patient::PatientForm;
use tsunagu_domain::registry::FacilityProfileForm;

impl App {
    pub(super) async fn demo_desk(&self) -> Result<(), AppError> {
        let meta = RequestMeta { source_ip: None, user_agent: Some("tsunagu demo".into()) };
        let admin = self.demo_session("city.admin").await?;
        let municipality = admin.account.municipality_id.ok_or(AppError::NotFound)?;
        let mut tx = self.store.begin_read().await?;
        let facilities = tx.facilities(municipality.0).await?;
        drop(tx);
        let id_of = |name: &str| facilities.iter().find(|f| f.name == name).map(|f| FacilityId(f.id));
        // ひまわり says nothing of itself: the public map's tests find it by that.
        let profiles: [(&str, &[&str], &str); 6] = [
            (
                "つなぐ在宅クリニック",
                &[
                    "scheduled_home_visit",
                    "urgent_visit",
                    "around_the_clock",
                    "home_death",
                    "palliative_opioids",
                    "home_oxygen",
                ],
                "yes",
            ),
            ("豊四季台ファミリークリニック", &["scheduled_home_visit", "urgent_visit", "dementia"], "limited"),
            ("柏の葉ホームケア診療所", &["scheduled_home_visit", "home_oxygen", "tube_feeding"], "yes"),
            (
                "訪問看護ステーションつなぐ",
                &["around_the_clock", "home_death", "palliative_opioids", "home_oxygen", "pressure_ulcer"],
                "yes",
            ),
            ("ケアプランセンターかしわ", &["dementia"], "yes"),
            ("さくら薬局 柏駅前店", &["pharmacy_visit", "palliative_opioids"], "yes"),
        ];
        for (name, services, accepting) in profiles {
            let Some(id) = id_of(name) else { continue };
            let form = FacilityProfileForm {
                services: services.to_vec(),
                accepting,
                opening_hours: "平日 9:00〜17:30",
                ..FacilityProfileForm::default()
            };
            self.update_facility_profile(&admin, id, &form, &meta).await?;
        }

        // A family's question through the public form: new, nobody has answered yet.
        let citizen = ConsultationForm {
            requester_kind: "family",
            requester_name: "柏田 一郎（架空）",
            requester_contact: "04-7100-9001",
            subject_name: "柏田 キヨ（架空）",
            subject_area: "豊四季台",
            topics: vec!["find_home_doctor", "costs"],
            summary: "母（88歳）が通院できなくなってきました。家に来てくれる先生を探しています。費用の目安も知りたいです。",
            ..ConsultationForm::default()
        };
        self.submit_public_consultation("122173", &citizen, &RequestMeta::default()).await?;

        // A care manager's call, in progress: a task due tomorrow and a line in the log.
        let centre = self.demo_session("center.coord").await?;
        let call = ConsultationForm {
            channel: "phone",
            requester_kind: "professional",
            requester_name: "山本 ケイ（ケアプランセンターかしわ）",
            requester_contact: "04-7100-0601",
            subject_name: "増尾 トシ（架空）",
            subject_area: "増尾",
            topics: vec!["dementia", "care_services"],
            urgency: "soon",
            summary: "認知症の独居の方。服薬管理が難しくなり、訪問看護と訪問薬剤管理の導入を検討したい。",
        };
        let case = self.record_consultation(&centre, &call, &meta).await?;
        let tomorrow = (self.today() + time::Duration::days(1)).to_string();
        self.add_case_task(&centre, case, "さくら薬局に訪問薬剤管理の空きを確認", &tomorrow, &meta).await?;
        self.log_case_contact(
            &centre,
            case,
            "phone",
            "ケアマネに折り返し。候補を2つ挙げ、明日までに空きを確認すると伝えた。",
            &meta,
        )
        .await?;

        // A closed one: information given.
        let closed = ConsultationForm {
            channel: "visit",
            requester_kind: "patient",
            requester_name: "若柴 ハナ（架空）",
            topics: vec!["end_of_life"],
            summary: "自宅で最期を迎えたいが、家族に負担をかけないか心配。",
            ..ConsultationForm::default()
        };
        let done = self.record_consultation(&centre, &closed, &meta).await?;
        self.close_case(
            &centre,
            done,
            "information_given",
            "在宅医療の流れと訪問看護の役割を説明。パンフレットを渡した。",
            &meta,
        )
        .await?;

        // A discharge request half-way.
        let msw = self.demo_session("msw.watanabe").await?;
        let hospital = msw.account.memberships.first().map(|m| m.facility_id).ok_or(AppError::NotFound)?;
        let patient = PatientForm {
            family_name: "根戸",
            given_name: "みつ",
            family_name_kana: "ネド",
            given_name_kana: "ミツ",
            birth_date: "1939-08-15",
            sex: "female",
            address: "千葉県柏市柏1丁目7-7",
            key_person: "根戸 大輔（長男・架空）",
            key_person_phone: "090-0000-9002",
            care_level: "care_3",
            main_diagnoses: "慢性閉塞性肺疾患（COPD）、心不全",
            special_care: vec!["home_oxygen"],
            ..PatientForm::default()
        };
        let planned = (self.today() + time::Duration::days(10)).to_string();
        let handover = HandoverForm {
            planned_discharge_on: &planned,
            medications: "フロセミド 20mg 朝1回、吸入薬（朝夕）",
            adl: "屋内は歩行器で移動。入浴は介助が必要。",
            family_situation: "長男と二人暮らし。長男は日中勤務。",
            place_of_care: "home",
            place_of_death: "undecided",
            needed_services: vec!["home_oxygen", "around_the_clock"],
            ..HandoverForm::default()
        };
        let discharge = self.send_discharge_request(&msw, hospital, &patient, &handover, &meta).await?;
        let (clinic, station) = (id_of("つなぐ在宅クリニック"), id_of("訪問看護ステーションつなぐ"));
        if let (Some(clinic), Some(station)) = (clinic, station) {
            self.ask_candidates(&centre, discharge, "primary_physician", &[clinic], &meta).await?;
            self.ask_candidates(&centre, discharge, "visiting_nurse", &[station], &meta).await?;
            let doctor = self.demo_session("dr.sato").await?;
            let inbox = self.coordination_inbox(&doctor).await?;
            if let Some(request) = inbox.first() {
                self.answer_candidate_request(&doctor, request.id, "accept", "", "", &meta).await?;
            }
        }
        // The team is not created yet: the desk does it once the nurse and a care manager accept.
        Ok(())
    }
}
