//! The audit log as a hash chain, one chain per municipality (plus one for
//! the installation itself). Each event's hash covers its content and the hash
//! of the event before it, so editing, inserting or removing any row breaks
//! the chain at that row.

use crate::coded_enum;
use crate::ids::{AccountId, MunicipalityId};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

coded_enum!(
    /// What happened.
    AuditAction {
        SignIn = "sign_in", "サインイン", "Signed in";
        SignInFailed = "sign_in_failed", "サインイン失敗", "Failed sign-in";
        SignOut = "sign_out", "サインアウト", "Signed out";
        SignOutEverywhere = "sign_out_everywhere", "全端末からサインアウト", "Signed out everywhere";
        SecondFactorEnrolled = "second_factor_enrolled", "二要素認証を登録", "Enrolled a second factor";
        SecondFactorFailed = "second_factor_failed", "認証コード誤り", "Wrong second-factor code";
        RecoveryCodeUsed = "recovery_code_used", "回復コードを使用", "Used a recovery code";
        RecoveryCodesRegenerated = "recovery_codes_regenerated", "回復コードを再発行", "Regenerated recovery codes";
        PasswordChanged = "password_changed", "パスワード変更", "Changed password";
        MunicipalityCreated = "municipality_created", "市区町村を登録", "Registered a municipality";
        FacilityCreated = "facility_created", "事業所を登録", "Registered a facility";
        FacilityUpdated = "facility_updated", "事業所情報を更新", "Updated a facility";
        AccountInvited = "account_invited", "IDを発行", "Issued an ID";
        InvitationRedeemed = "invitation_redeemed", "招待コードで登録", "Redeemed an invitation";
        InvitationReissued = "invitation_reissued", "再設定コードを発行", "Issued a reset code";
        AccountDisabled = "account_disabled", "アカウントを停止", "Disabled an account";
        AccountEnabled = "account_enabled", "アカウントを再開", "Re-enabled an account";
        MembershipAdded = "membership_added", "所属を追加", "Added to a facility";
        MembershipRemoved = "membership_removed", "所属を解除", "Removed from a facility";
        PatientRegistered = "patient_registered", "患者を登録", "Registered a patient";
        PatientUpdated = "patient_updated", "患者情報を更新", "Updated a patient";
        PatientViewed = "patient_viewed", "患者記録を閲覧", "Viewed a patient record";
        PatientListViewed = "patient_list_viewed", "担当患者一覧を閲覧", "Viewed the patient list";
        ConsentRecorded = "consent_recorded", "同意を記録", "Recorded consent";
        ConsentWithdrawn = "consent_withdrawn", "同意の撤回を記録", "Recorded withdrawal of consent";
        TeamMemberAdded = "team_member_added", "チームに追加", "Added to a care team";
        TeamMemberRemoved = "team_member_removed", "チームから外れた", "Left or removed from a care team";
        EntryPosted = "entry_posted", "記録を投稿", "Posted an entry";
        EntryCorrected = "entry_corrected", "記録を訂正", "Corrected an entry";
        EntryViewed = "entry_viewed", "記録の履歴を閲覧", "Viewed an entry's history";
        EntryAcknowledged = "entry_acknowledged", "急変を確認", "Acknowledged an urgent entry";
        AcpRecorded = "acp_recorded", "人生会議の記録を追加", "Recorded an advance care plan";
        AcpViewed = "acp_viewed", "人生会議の履歴を閲覧", "Viewed advance care plan history";
        PatientPrinted = "patient_printed", "記録を印刷用に表示", "Printed a patient record";
        AttachmentViewed = "attachment_viewed", "添付ファイルを閲覧", "Opened an attachment";
        FamilyInvited = "family_invited", "家族を招待", "Invited a family member";
        AccessLogViewed = "access_log_viewed", "閲覧履歴を確認", "Viewed who read the record";
        BreakGlassGranted = "break_glass_granted", "緊急閲覧（ブレークグラス）", "Break-glass access";
        EmailNotificationsChanged = "email_notifications_changed", "メール通知の設定を変更", "Changed e-mail notifications";
        SyntheticDataGenerated = "synthetic_data_generated", "合成データを生成", "Generated synthetic data";
        BreakGlassRefused = "break_glass_refused", "緊急閲覧の照会（該当なし）", "Break-glass lookup without a match";
        AccessRefused = "access_refused", "アクセスを拒否", "Refused access";
        PhysicianGroupCreated = "physician_group_created", "医師グループを作成", "Created a physician group";
        PhysicianGroupChanged = "physician_group_changed", "医師グループのメンバーを変更", "Changed a physician group's members";
        RosterChanged = "roster_changed", "当番表を変更", "Changed an on-call roster";
        AbsenceRecorded = "absence_recorded", "不在を登録", "Recorded an absence";
        AbsenceCancelled = "absence_cancelled", "不在を取り消し", "Cancelled an absence";
        BackupBedsUpdated = "backup_beds_updated", "バックアップ病床を更新", "Updated backup beds";
        BackupHospitalSet = "backup_hospital_set", "バックアップ病院を設定", "Set a patient's backup hospital";
        ResponderChainViewed = "responder_chain_viewed", "連絡先（対応医）を確認", "Viewed who answers for a patient";
        UrgentRequestRaised = "urgent_request_raised", "急変時の依頼を発信", "Raised an urgent request";
        UrgentRequestViewed = "urgent_request_viewed", "急変時の依頼を閲覧", "Viewed an urgent request";
        EscalationStepFired = "escalation_step_fired", "依頼を次の連絡先へ", "Called the next responder";
        UrgentRequestAcknowledged = "urgent_request_acknowledged", "急変時の依頼に応答", "Acknowledged an urgent request";
        UrgentRequestAccepted = "urgent_request_accepted", "入院受け入れ", "Accepted an admission";
        UrgentRequestDeclined = "urgent_request_declined", "受け入れ不可と回答", "Declined an admission";
        HospitalsAsked = "hospitals_asked", "バックアップ病院へ依頼", "Asked the backup hospitals";
        UrgentRequestUnanswered = "urgent_request_unanswered", "依頼に応答なし", "An urgent request went unanswered";
        UrgentRequestClosed = "urgent_request_closed", "急変時の依頼の転帰を記録", "Recorded an urgent request's outcome";
        FacilitiesImported = "facilities_imported", "公開データから事業所を取り込み", "Imported facilities from open data";
        ArticleSaved = "article_saved", "市民向けの記事を保存", "Saved a public article";
        PublicEventSaved = "public_event_saved", "市民向けの催しを保存", "Saved a public event";
        FigureEntered = "figure_entered", "公表する数値を入力", "Entered a published figure";
        ApiTokenCreated = "api_token_created", "APIトークンを発行", "Created an API token";
        ApiTokenRevoked = "api_token_revoked", "APIトークンを失効", "Revoked an API token";
        RecordExported = "record_exported", "記録を書き出し（FHIR）", "Exported a patient record (FHIR)";
        SecondFactorsSealed = "second_factors_sealed", "二要素認証の秘密情報を暗号化", "Sealed stored second-factor secrets";
        AnalysisExported = "analysis_exported", "分析用データ（個人を特定しない）を書き出し", "Exported de-identified data for analysis";
        CaseOpened = "case_opened", "相談・依頼を受付", "Opened a coordination case";
        CaseViewed = "case_viewed", "相談・依頼の記録を閲覧", "Viewed a coordination case";
        CaseChanged = "case_changed", "相談・依頼の状態や担当を変更", "Changed a coordination case";
        CaseLogged = "case_logged", "相談・依頼の経過を記録", "Logged contact on a case";
        CaseClosed = "case_closed", "相談・依頼を終了", "Closed a coordination case";
        DischargeRequested = "discharge_requested", "退院支援を依頼", "Sent a discharge request";
        CandidatesAsked = "candidates_asked", "チーム候補の事業所へ依頼", "Asked candidate facilities";
        CandidateRequestViewed = "candidate_request_viewed", "チームへの参加依頼を閲覧", "Viewed a request to join a team";
        CandidateAnswered = "candidate_answered", "チームへの参加依頼に回答", "Answered a request to join a team";
        TeamCreatedFromCase = "team_created_from_case", "退院支援から在宅チームを作成", "Created a care team from a case";
        DischargeRulesAdopted = "discharge_rules_adopted", "退院支援ルールを改定", "Adopted a version of the discharge rules";
        CandidateReminded = "candidate_reminded", "チーム参加依頼の回答期限を通知", "Reminded a facility of its deadline";
        ConsultationTopicsChanged = "consultation_topics_changed", "相談内容の一覧を変更", "Changed the consultation topics";
        ConferenceScheduled = "conference_scheduled", "退院前カンファレンスを記録", "Recorded a pre-discharge conference";
    }
);

/// The chain that installation-level events (no municipality) belong to.
pub const INSTALLATION_CHAIN: Uuid = Uuid::nil();

/// A chain is keyed by municipality, or by [`INSTALLATION_CHAIN`].
pub fn chain_of(municipality: Option<MunicipalityId>) -> Uuid {
    municipality.map_or(INSTALLATION_CHAIN, |m| m.0)
}

/// An event before it is chained: what the app layer hands to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub municipality_id: Option<MunicipalityId>,
    pub occurred_at: OffsetDateTime,
    pub actor_account_id: Option<AccountId>,
    /// Who, as a person would read it (login id, client name, "system").
    pub actor_label: String,
    pub action: AuditAction,
    pub target_kind: &'static str,
    pub target_id: Option<Uuid>,
    pub source_ip: Option<String>,
    /// Small JSON object with what changed; never secrets.
    pub details: serde_json::Value,
}

/// A stored event, as read back for verification or display.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedEvent {
    pub id: Uuid,
    pub chain: Uuid,
    pub seq: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_account_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    pub source_ip: Option<String>,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The hash of the first event's predecessor.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Hashes an event's content together with its predecessor's hash. Every field
/// is length-prefixed so that no two different events share an input.
pub fn event_hash(event: &ChainedEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tsunagu-audit-v1");
    h.update(&event.prev_hash);
    h.update(event.chain.as_bytes());
    h.update(event.seq.to_be_bytes());
    h.update(event.id.as_bytes());
    let micros = i64::try_from(event.occurred_at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
    h.update(micros.to_be_bytes());
    let optional_uuid = |u: Option<Uuid>| u.map(|u| u.as_bytes().to_vec()).unwrap_or_default();
    for field in [
        optional_uuid(event.actor_account_id).as_slice(),
        event.actor_label.as_bytes(),
        event.action.as_bytes(),
        event.target_kind.as_bytes(),
        optional_uuid(event.target_id).as_slice(),
        event.source_ip.as_deref().unwrap_or_default().as_bytes(),
        event.details.as_bytes(),
    ] {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        h.update(len.to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

/// What is wrong with a chain, at the first event where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The event's content no longer matches its hash (edited in place).
    Altered { seq: i64, id: Uuid },
    /// The event does not follow its predecessor (inserted, or one before it removed).
    BrokenLink { seq: i64, id: Uuid },
    /// Sequence numbers skip or repeat (an event removed or inserted).
    OutOfSequence { expected: i64, found: i64, id: Uuid },
    /// The chain ends before its recorded head (events removed from the end).
    Truncated { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Altered { seq, id } => write!(f, "event #{seq} ({id}) was altered: its hash does not match"),
            ChainProblem::BrokenLink { seq, id } => {
                write!(
                    f,
                    "event #{seq} ({id}) does not follow the event before it: inserted, or its predecessor removed"
                )
            }
            ChainProblem::OutOfSequence { expected, found, id } => {
                write!(f, "expected event #{expected}, found #{found} ({id}): events removed or inserted")
            }
            ChainProblem::Truncated { head_seq, last_seq } => {
                write!(
                    f,
                    "the chain head says #{head_seq} but the last event is #{last_seq}: events removed from the end"
                )
            }
        }
    }
}

/// Walks one chain in sequence order. Feed events with [`ChainVerifier::push`]
/// (so that a long chain is never held in memory), then call [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: Vec<u8>,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH.to_vec(), checked: 0 }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, event: &ChainedEvent) -> Result<(), ChainProblem> {
        if event.seq != self.expected_seq {
            return Err(ChainProblem::OutOfSequence { expected: self.expected_seq, found: event.seq, id: event.id });
        }
        if event_hash(event).as_slice() != event.hash.as_slice() {
            return Err(ChainProblem::Altered { seq: event.seq, id: event.id });
        }
        if event.prev_hash != self.prev_hash {
            return Err(ChainProblem::BrokenLink { seq: event.seq, id: event.id });
        }
        self.prev_hash.clone_from(&event.hash);
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the walk with the head recorded beside the chain.
    pub fn finish(&self, head_seq: i64, head_hash: &[u8]) -> Result<(), ChainProblem> {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq || (last_seq > 0 && head_hash != self.prev_hash.as_slice()) {
            return Err(ChainProblem::Truncated { head_seq, last_seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chain(n: i64) -> Vec<ChainedEvent> {
        let mut prev = GENESIS_HASH.to_vec();
        (1..=n)
            .map(|seq| {
                let mut e = ChainedEvent {
                    id: Uuid::now_v7(),
                    chain: INSTALLATION_CHAIN,
                    seq,
                    occurred_at: datetime!(2026-11-25 12:00:00 UTC),
                    actor_account_id: None,
                    actor_label: "sato".into(),
                    action: "sign_in".into(),
                    target_kind: "account".into(),
                    target_id: None,
                    source_ip: Some("127.0.0.1".into()),
                    details: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: vec![],
                };
                e.hash = event_hash(&e).to_vec();
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn verify(events: &[ChainedEvent], head_seq: i64, head_hash: &[u8]) -> Result<u64, ChainProblem> {
        let mut v = ChainVerifier::default();
        for e in events {
            v.push(e)?;
        }
        v.finish(head_seq, head_hash)?;
        Ok(v.checked)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let events = chain(5);
        let head = events[4].hash.clone();
        assert_eq!(verify(&events, 5, &head), Ok(5));
        assert_eq!(verify(&[], 0, &GENESIS_HASH), Ok(0));
    }

    #[test]
    fn an_edit_is_found_at_the_edited_event() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        events[2].actor_label = "intruder".into();
        assert_eq!(verify(&events, 5, &head), Err(ChainProblem::Altered { seq: 3, id: events[2].id }));
    }

    #[test]
    fn a_removal_in_the_middle_is_found() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        let removed = events.remove(1);
        assert_eq!(
            verify(&events, 5, &head),
            Err(ChainProblem::OutOfSequence { expected: 2, found: 3, id: events[1].id })
        );
        assert_eq!(removed.seq, 2);
    }

    #[test]
    fn a_renumbered_insertion_is_found() {
        let mut events = chain(3);
        let head = events[2].hash.clone();
        // A forger inserts an event and renumbers, recomputing the forged event's own hash.
        let mut forged = events[1].clone();
        forged.id = Uuid::now_v7();
        forged.prev_hash = vec![7; 32];
        forged.hash = event_hash(&forged).to_vec();
        events[1] = forged.clone();
        assert_eq!(verify(&events, 3, &head), Err(ChainProblem::BrokenLink { seq: 2, id: forged.id }));
    }

    #[test]
    fn removal_from_the_end_is_found_against_the_head() {
        let events = chain(5);
        let head = events[4].hash.clone();
        assert_eq!(verify(&events[..4], 5, &head), Err(ChainProblem::Truncated { head_seq: 5, last_seq: 4 }));
    }
}
