//! Acute exacerbation requests (急性増悪) and their escalation along the chain
//! of [`crate::on_call::who_answers`]: the plan of steps and their timing.
//! The app stores the plan as rows whose `due_at` are the timers.

use crate::coded_enum;
use crate::on_call::{ChainRole, Link};
use time::Duration;

coded_enum!(
    /// What the nurse or physician asks for.
    RequestKind {
        UrgentVisit = "urgent_visit", "往診依頼", "Urgent visit";
        Admission = "admission", "入院依頼", "Admission request";
    }
);

coded_enum!(
    /// Where a request is.
    RequestState {
        Open = "open", "呼び出し中", "Calling";
        Acknowledged = "acknowledged", "医師が対応中", "A physician is on it";
        Accepted = "accepted", "病院が受け入れ", "Accepted by a hospital";
        Unanswered = "unanswered", "応答なし", "Nobody answered";
        Closed = "closed", "終了", "Closed";
    }
);

coded_enum!(
    /// How an acute exacerbation ended.
    RequestOutcome {
        ManagedAtHome = "managed_at_home", "在宅で対応", "Managed at home";
        Admitted = "admitted", "入院", "Admitted";
        DiedAtHome = "died_at_home", "在宅で看取り", "Died at home";
        Withdrawn = "withdrawn", "依頼取り下げ", "Request withdrawn";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// What happened to one step of the escalation.
    StepAnswer {
        Acknowledged = "acknowledged", "応答", "Acknowledged";
        Accepted = "accepted", "受け入れ", "Accepted";
        Declined = "declined", "受け入れ不可", "Declined";
        TimedOut = "timed_out", "応答なし（次へ）", "No answer (escalated)";
        Cancelled = "cancelled", "不要（対応済み）", "Not needed";
    }
);

impl RequestState {
    /// Still looking for someone to answer.
    pub fn is_escalating(self) -> bool {
        self == RequestState::Open
    }

    /// Someone called can still answer: while calling, and after the chain ran
    /// out (a late answer is better than none).
    pub fn awaits_answer(self) -> bool {
        matches!(self, RequestState::Open | RequestState::Unanswered)
    }

    /// An outcome can still be recorded.
    pub fn is_active(self) -> bool {
        !matches!(self, RequestState::Closed)
    }
}

/// How long each link has to answer before the next is called, and the most
/// a request may take to reach the first backup hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationPolicy {
    pub step: Duration,
    pub to_hospital: Duration,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self { step: Duration::minutes(10), to_hospital: Duration::minutes(30) }
    }
}

impl EscalationPolicy {
    /// Minutes as the configuration gives them; `to_hospital` is at least one step.
    pub fn from_minutes(step: u32, to_hospital: u32) -> Self {
        Self::from_seconds(step.max(1).saturating_mul(60), to_hospital.max(1).saturating_mul(60))
    }

    /// Seconds, for drills (訓練) and tests that watch a chain run in real time.
    pub fn from_seconds(step: u32, to_hospital: u32) -> Self {
        let step = Duration::seconds(i64::from(step.max(1)));
        let to_hospital = Duration::seconds(i64::from(to_hospital.max(1))).max(step);
        Self { step, to_hospital }
    }
}

/// One planned step: who is called, and how long after the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedStep {
    pub link: Link,
    pub after: Duration,
}

/// The escalation plan for a chain. Physicians are called one after another,
/// each given `policy.step` — shortened when needed so that the first
/// hospital is called no later than `policy.to_hospital`; then the hospitals,
/// one `policy.step` apart. A decline moves on at once (the app brings the
/// next step forward).
pub fn plan(chain: &[Link], policy: EscalationPolicy) -> Vec<PlannedStep> {
    let physicians = chain.iter().filter(|l| l.role != ChainRole::Hospital).count();
    let per_physician = match i32::try_from(physicians) {
        Ok(n) if n > 0 => policy.step.min(policy.to_hospital / n),
        _ => policy.step,
    };
    let mut after = Duration::ZERO;
    let mut steps = Vec::with_capacity(chain.len());
    for link in chain {
        steps.push(PlannedStep { link: *link, after });
        after += if link.role == ChainRole::Hospital { policy.step } else { per_physician };
    }
    steps
}

/// A request for an urgent visit starts with the physicians; an admission
/// request too (the physician decides), unless the team asks the hospitals
/// directly — then the plan starts at the first hospital.
pub fn hospitals_only(steps: &[PlannedStep]) -> Vec<PlannedStep> {
    let hospitals: Vec<Link> = steps.iter().map(|s| s.link).filter(|l| l.role == ChainRole::Hospital).collect();
    let step = steps.windows(2).find(|w| w[0].link.role == ChainRole::Hospital).map(|w| w[1].after - w[0].after);
    let step = step.unwrap_or(Duration::minutes(10));
    hospitals.iter().enumerate().map(|(i, l)| PlannedStep { link: *l, after: step * i as i32 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, FacilityId};
    use crate::on_call::Responder;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn physician(n: u128, role: ChainRole) -> Link {
        Link { responder: Responder::Physician(AccountId(Uuid::from_u128(n))), role }
    }

    fn hospital(n: u128) -> Link {
        Link { responder: Responder::Hospital(FacilityId(Uuid::from_u128(n))), role: ChainRole::Hospital }
    }

    #[test]
    fn physicians_then_hospitals_ten_minutes_apart() {
        let chain = [physician(1, ChainRole::Primary), physician(2, ChainRole::Backup), hospital(3), hospital(4)];
        let steps = plan(&chain, EscalationPolicy::default());
        let minutes: Vec<i64> = steps.iter().map(|s| s.after.whole_minutes()).collect();
        assert_eq!(minutes, vec![0, 10, 20, 30]);
    }

    #[test]
    fn a_long_chain_is_squeezed_to_reach_a_hospital_in_time() {
        let chain = [
            physician(1, ChainRole::Primary),
            physician(2, ChainRole::Backup),
            physician(3, ChainRole::Backup),
            physician(4, ChainRole::OnCall),
            hospital(5),
        ];
        let steps = plan(&chain, EscalationPolicy::from_minutes(15, 30));
        assert_eq!(steps.last().map(|s| s.after), Some(Duration::minutes(30)));
        assert_eq!(steps[1].after, Duration::seconds(450));
    }

    #[test]
    fn hospitals_only_starts_at_once() {
        let chain = [physician(1, ChainRole::Primary), hospital(3), hospital(4)];
        let steps = hospitals_only(&plan(&chain, EscalationPolicy::default()));
        let minutes: Vec<i64> = steps.iter().map(|s| s.after.whole_minutes()).collect();
        assert_eq!(minutes, vec![0, 10]);
    }

    #[test]
    fn configuration_is_clamped() {
        let p = EscalationPolicy::from_minutes(0, 0);
        assert_eq!(p.step, Duration::minutes(1));
        assert_eq!(p.to_hospital, Duration::minutes(1));
        let drill = EscalationPolicy::from_seconds(2, 1);
        assert_eq!((drill.step, drill.to_hospital), (Duration::seconds(2), Duration::seconds(2)));
    }

    proptest! {
        /// An unacknowledged request always reaches a hospital within the configured total time.
        #[test]
        fn reaches_a_hospital_in_time(
            roles in proptest::collection::vec(0u8..3, 0..8),
            hospitals in 1usize..5,
            step in 1u32..60,
            to_hospital in 1u32..120,
        ) {
            let mut chain: Vec<Link> = roles.iter().enumerate().map(|(i, r)| {
                let role = [ChainRole::Primary, ChainRole::Backup, ChainRole::OnCall][usize::from(*r)];
                physician(i as u128, role)
            }).collect();
            chain.extend((0..hospitals).map(|i| hospital(100 + i as u128)));
            let policy = EscalationPolicy::from_minutes(step, to_hospital);
            let steps = plan(&chain, policy);
            prop_assert_eq!(steps.len(), chain.len());
            let first_hospital = steps.iter().find(|s| s.link.role == ChainRole::Hospital).map(|s| s.after);
            prop_assert!(first_hospital.is_some_and(|after| after <= policy.to_hospital));
            // Steps never go back in time, and each link is given some time.
            prop_assert!(steps.windows(2).all(|w| w[0].after < w[1].after));
        }
    }
}
