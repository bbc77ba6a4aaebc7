//! The patient page as a whole: the record's views with who answers now and the urgent requests.

use super::*;

/// Everything the patient page shows.
#[derive(Debug, Clone)]
pub struct PatientPage {
    pub acp: Option<AcpView>,
    pub patient: PatientView,
    pub consent_state: ConsentState,
    pub consent: Option<ConsentView>,
    pub team: Vec<TeamMemberView>,
    pub timeline: Arc<Vec<EntryView>>,
    pub can_write: bool,
    /// May say "I will respond" on urgent entries (physicians: `policy::acknowledge_urgent_entry`).
    pub can_acknowledge_urgent: bool,
    /// May withdraw consent, change the care plan and status (members who are not family).
    pub can_act_for_team: bool,
    /// May add colleagues to the team (its professional members).
    pub can_add_to_team: bool,
    /// May invite family (the team's leads: docs/security.md).
    pub can_invite_family: bool,
    pub viewer_is_family: bool,
    pub latest_vitals: Option<(OffsetDateTime, VitalSigns)>,
    /// Set when the reader sees this record by break-glass, not as a member: until when.
    pub emergency_until: Option<OffsetDateTime>,
    /// Up to 20 recent measurements, oldest first (for the trend chart).
    pub vitals_trend: Vec<(OffsetDateTime, VitalSigns)>,
    /// Who answers now: physicians, on call, backup hospitals, with numbers (when asked for).
    pub responders: Option<crate::on_call::ChainView>,
    pub urgent_requests: Vec<crate::escalation::RequestLine>,
}
