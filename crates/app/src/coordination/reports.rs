//! The desk's figures for the council: consultations per month by source,
//! topic and outcome; how fast the centre answers and finds a team; which
//! requests were declined, why and where (the gaps in the network). Counts
//! only: nothing here names a person.

use super::desk::median;
use super::*;
use tsunagu_domain::clock::JST;
use tsunagu_domain::coordination::{Answer, DeclineReason, Seat, TopicDef};
use tsunagu_domain::public_pages::FiscalYear;

/// One month of a fiscal year.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthCount {
    pub year: i32,
    pub month: u8,
    pub consultations: i64,
    pub discharges: i64,
}

/// A count by code, in the code list's order (zeros kept, so tables line up).
pub type Counts<T> = Vec<(T, i64)>;

#[derive(Debug, Clone, PartialEq)]
pub struct CaseReport {
    pub year: FiscalYear,
    pub months: Vec<MonthCount>,
    pub by_channel: Counts<Channel>,
    pub by_requester: Counts<RequesterKind>,
    /// The municipality's topics in its order (retired ones too), then codes no longer listed.
    pub by_topic: Vec<(TopicDef, i64)>,
    pub by_outcome: Counts<CaseOutcome>,
    pub open: i64,
    pub total: i64,
    /// Medians: hours to first response; days from a discharge request to
    /// its team; days from the team to the planned discharge.
    pub first_response_hours: Option<f64>,
    pub days_to_team: Option<f64>,
    pub days_team_to_discharge: Option<f64>,
    pub teams_created: i64,
    /// Requests to candidates: asked, accepted, declined by reason (no answer included).
    pub asked: i64,
    pub accepted: i64,
    pub declined: Counts<Option<DeclineReason>>,
    /// Declines and unanswered requests by seat and by the patient's town.
    pub declined_by_seat: Counts<Seat>,
    pub declined_by_area: Vec<(String, i64)>,
    /// One line per case (no names): for the CSV.
    pub lines: Vec<ReportLine>,
}

/// A case in the CSV export: what it was, never who.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    pub created_on: Date,
    pub kind: CaseKind,
    pub channel: Channel,
    pub requester_kind: RequesterKind,
    pub topics: Vec<TopicDef>,
    pub urgency: Urgency,
    pub state: CaseState,
    pub outcome: Option<CaseOutcome>,
    pub area: Option<String>,
    pub hours_to_first_response: Option<i64>,
    pub days_to_team: Option<i64>,
}

fn counts<T: Copy + PartialEq>(all: &[T], values: impl Iterator<Item = T>) -> Counts<T> {
    let mut out: Counts<T> = all.iter().map(|v| (*v, 0)).collect();
    for v in values {
        if let Some(slot) = out.iter_mut().find(|(k, _)| *k == v) {
            slot.1 += 1;
        }
    }
    out
}

fn start_of(day: Date) -> OffsetDateTime {
    day.midnight().assume_offset(JST)
}

impl App {
    /// The figures of one fiscal year (April to March), audited as a read of the desk.
    pub async fn case_report(
        &self,
        session: &Session,
        year: FiscalYear,
        meta: &RequestMeta,
    ) -> Result<CaseReport, AppError> {
        let desk = self.decide_desk(session, meta)?;
        let (from, to) = (start_of(year.first_day()), start_of(year.end()));
        let mut tx = self.store.begin_read().await?;
        let cases = tx.cases_created_between(desk.grant(), from, to).await?;
        let candidates = tx.candidates_between(desk.grant(), from, to).await?;
        let topics = topics_in(tx.as_mut(), desk.municipality().0).await?;
        let areas: std::collections::HashMap<uuid::Uuid, Option<String>> = cases
            .iter()
            .map(|c| {
                let area = handover_of(c)
                    .ok()
                    .flatten()
                    .map(|h| tsunagu_domain::coordination::town_of(&h.patient.address))
                    .or_else(|| Some(c.subject_area.clone()))
                    .flatten();
                (c.id, area)
            })
            .collect();
        drop(tx);
        let now = self.now();
        let mut months: Vec<MonthCount> = (0..12)
            .map(|i| {
                let m = (3 + i) % 12 + 1;
                MonthCount {
                    year: if m >= 4 { year.0 } else { year.0 + 1 },
                    month: m as u8,
                    consultations: 0,
                    discharges: 0,
                }
            })
            .collect();
        let mut lines = Vec::new();
        for c in &cases {
            let day = c.created_at.to_offset(JST).date();
            if let Some(m) = months.iter_mut().find(|m| m.year == day.year() && m.month == u8::from(day.month())) {
                match c.kind {
                    CaseKind::Consultation => m.consultations += 1,
                    CaseKind::Discharge => m.discharges += 1,
                }
            }
            lines.push(ReportLine {
                created_on: day,
                kind: c.kind,
                channel: c.channel,
                requester_kind: c.requester_kind,
                topics: topics_of(&c.topics, &topics),
                urgency: c.urgency,
                state: c.state,
                outcome: c.outcome.as_deref().and_then(|o| CaseOutcome::parse(o).ok()),
                area: areas.get(&c.id).cloned().flatten(),
                hours_to_first_response: c.first_response_at.map(|a| (a - c.created_at).whole_hours()),
                days_to_team: c.team_completed_at.map(|a| (a - c.created_at).whole_days()),
            });
        }
        let minutes: Vec<i64> =
            cases.iter().filter_map(|c| c.first_response_at.map(|a| (a - c.created_at).whole_minutes())).collect();
        let to_team: Vec<i64> =
            cases.iter().filter_map(|c| c.team_completed_at.map(|a| (a - c.created_at).whole_hours())).collect();
        let team_to_discharge: Vec<i64> = cases
            .iter()
            .filter_map(|c| Some((start_of(c.planned_discharge_on?) - c.team_completed_at?).whole_hours()))
            .collect();
        let answers: Vec<(Seat, Answer, uuid::Uuid)> =
            candidates.iter().map(|r| (r.request.seat, super::answer_of(&r.request, now), r.request.case_id)).collect();
        let declined: Vec<&(Seat, Answer, uuid::Uuid)> =
            answers.iter().filter(|(_, a, _)| matches!(a, Answer::Declined(_) | Answer::NoAnswer)).collect();
        let mut by_area: Vec<(String, i64)> = Vec::new();
        for (_, _, case) in &declined {
            let area = areas.get(case).cloned().flatten().unwrap_or_else(|| "—".to_owned());
            match by_area.iter_mut().find(|(a, _)| *a == area) {
                Some(slot) => slot.1 += 1,
                None => by_area.push((area, 1)),
            }
        }
        by_area.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut reasons: Vec<Option<DeclineReason>> = DeclineReason::ALL.iter().copied().map(Some).collect();
        reasons.push(None);
        let report = CaseReport {
            year,
            months,
            by_channel: counts(Channel::ALL, cases.iter().map(|c| c.channel)),
            by_requester: counts(RequesterKind::ALL, cases.iter().map(|c| c.requester_kind)),
            by_topic: {
                let mut by: Vec<(TopicDef, i64)> = topics.iter().map(|t| (t.clone(), 0)).collect();
                for t in cases.iter().flat_map(|c| topics_of(&c.topics, &topics)) {
                    match by.iter_mut().find(|(d, _)| d.code == t.code) {
                        Some(slot) => slot.1 += 1,
                        None => by.push((t, 1)),
                    }
                }
                by
            },
            by_outcome: counts(
                CaseOutcome::ALL,
                cases.iter().filter_map(|c| c.outcome.as_deref().and_then(|o| CaseOutcome::parse(o).ok())),
            ),
            open: cases.iter().filter(|c| c.closed_at.is_none()).count() as i64,
            total: cases.len() as i64,
            first_response_hours: median(minutes).map(|m| m as f64 / 60.0),
            days_to_team: median(to_team).map(|h| h as f64 / 24.0),
            days_team_to_discharge: median(team_to_discharge).map(|h| h as f64 / 24.0),
            teams_created: cases.iter().filter(|c| c.team_completed_at.is_some()).count() as i64,
            asked: answers.len() as i64,
            accepted: answers.iter().filter(|(_, a, _)| *a == Answer::Accepted).count() as i64,
            declined: counts(
                &reasons,
                declined.iter().map(|(_, a, _)| match a {
                    Answer::Declined(r) => Some(*r),
                    _ => None,
                }),
            ),
            declined_by_seat: counts(Seat::ALL, declined.iter().map(|(s, _, _)| *s)),
            declined_by_area: by_area,
            lines,
        };
        self.case_read(desk.event(
            now,
            AuditAction::CaseViewed,
            None,
            json!({ "view": "report", "fiscal_year": year.0 }),
        ))
        .await?;
        Ok(report)
    }
}
