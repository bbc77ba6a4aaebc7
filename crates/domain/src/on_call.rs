//! The backup system's time rules (item ウ): absences, the on-call roster of a
//! physician group, "who answers now" for a patient, and the coverage gaps of
//! the coming days. Pure functions of their inputs and a moment: the app loads
//! rows, these decide.

use crate::clock::JST;
use crate::ids::{AccountId, FacilityId};
use crate::{ValidationError, coded_enum, holiday};
use time::{Date, Duration, Month, OffsetDateTime, Time};

coded_enum!(
    /// Why a physician is away.
    AbsenceReason {
        Conference = "conference", "学会", "Conference";
        Leave = "leave", "休暇", "Leave";
        NightAway = "night_away", "夜間不在", "Away at night";
        Illness = "illness", "病欠", "Sick";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// The kinds of roster slot: clinics are closed at night and on days off.
    SlotKind {
        Night = "night", "夜間", "Night";
        DayOff = "day_off", "休日日中", "Day off (daytime)";
    }
);

coded_enum!(
    /// Why someone is in a patient's chain of responders.
    ChainRole {
        Primary = "primary", "主治医", "Primary physician";
        Backup = "backup", "副主治医", "Backup physician";
        OnCall = "on_call", "当番医", "On-call physician";
        Hospital = "hospital", "バックアップ病院", "Backup hospital";
    }
);

/// A half-open stretch of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

/// The longest absence one entry may record (a long leave is split by hand).
pub const MAX_ABSENCE: Duration = Duration::days(92);

impl Span {
    /// A span that ends after it starts and lasts at most [`MAX_ABSENCE`].
    pub fn parse(start: OffsetDateTime, end: OffsetDateTime) -> Result<Self, ValidationError> {
        if end <= start {
            return Err(ValidationError::new("ends_at", "before_start"));
        }
        if end - start > MAX_ABSENCE {
            return Err(ValidationError::new("ends_at", "too_long"));
        }
        Ok(Self { start, end })
    }

    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.start <= t && t < self.end
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A physician's recorded absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absence {
    pub account: AccountId,
    pub span: Span,
    pub reason: AbsenceReason,
}

/// Whether `account` is away at `t`.
pub fn is_absent(account: AccountId, absences: &[Absence], t: OffsetDateTime) -> bool {
    absence_at(account, absences, t).is_some()
}

/// The absence that keeps `account` away at `t`, if any.
pub fn absence_at(account: AccountId, absences: &[Absence], t: OffsetDateTime) -> Option<&Absence> {
    absences.iter().find(|a| a.account == account && a.span.contains(t))
}

/// Clinic hours end and start at these Tokyo times; the roster covers the rest.
pub const NIGHT_STARTS: Time = time::macros::time!(18:00);
pub const DAY_STARTS: Time = time::macros::time!(9:00);

/// One slot of a roster: someone of the group must be reachable through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterSlot {
    pub span: Span,
    pub kind: SlotKind,
    /// The Tokyo date the slot belongs to (a night belongs to its evening).
    pub date: Date,
}

/// A Tokyo local time in UTC; `None` when that instant cannot be represented
/// (the first hours of year -9999).
fn at_jst(date: Date, t: Time) -> Option<OffsetDateTime> {
    date.with_time(t).assume_offset(JST).checked_to_offset(time::UtcOffset::UTC)
}

/// The slots of a month: every night (18:00 → 9:00 next day) and, on
/// Saturdays, Sundays and public holidays, the daytime (9:00 → 18:00) too.
pub fn roster_slots(year: i32, month: Month) -> Vec<RosterSlot> {
    let Ok(mut day) = Date::from_calendar_date(year, month, 1) else { return Vec::new() };
    let mut slots = Vec::new();
    while day.month() == month {
        let Some(next) = day.next_day() else { break };
        if holiday::is_day_off(day) {
            let Some((start, end)) = at_jst(day, DAY_STARTS).zip(at_jst(day, NIGHT_STARTS)) else { break };
            slots.push(RosterSlot { span: Span { start, end }, kind: SlotKind::DayOff, date: day });
        }
        let Some((start, end)) = at_jst(day, NIGHT_STARTS).zip(at_jst(next, DAY_STARTS)) else { break };
        slots.push(RosterSlot { span: Span { start, end }, kind: SlotKind::Night, date: day });
        day = next;
    }
    slots
}

/// A slot with the physician on call in it, if one is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub span: Span,
    pub physician: Option<AccountId>,
}

/// What is wrong with a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterProblem {
    /// Nobody is on call.
    Hole { slot: Span },
    /// The physician on call has an absence during the slot.
    Absent { slot: Span, physician: AccountId, reason: AbsenceReason },
    /// The physician on call is not (or no longer) in the group.
    NotInGroup { slot: Span, physician: AccountId },
}

/// The holes and conflicts of a roster, in slot order.
pub fn check_roster(shifts: &[Shift], members: &[AccountId], absences: &[Absence]) -> Vec<RosterProblem> {
    let mut problems = Vec::new();
    for shift in shifts {
        match shift.physician {
            None => problems.push(RosterProblem::Hole { slot: shift.span }),
            Some(p) if !members.contains(&p) => {
                problems.push(RosterProblem::NotInGroup { slot: shift.span, physician: p });
            }
            Some(p) => {
                if let Some(a) = absences.iter().find(|a| a.account == p && a.span.overlaps(&shift.span)) {
                    problems.push(RosterProblem::Absent { slot: shift.span, physician: p, reason: a.reason });
                }
            }
        }
    }
    problems
}

/// Fills the holes of a roster in turn: each hole goes to the member with the
/// fewest shifts so far who is not away during it and did not have the slot
/// before (nobody works two slots running if someone else can). Assigned
/// slots are kept. Holes stay holes when every member is away.
pub fn fill_holes(shifts: &[Shift], members: &[AccountId], absences: &[Absence]) -> Vec<Shift> {
    let mut count: Vec<usize> =
        members.iter().map(|m| shifts.iter().filter(|s| s.physician == Some(*m)).count()).collect();
    let mut out: Vec<Shift> = Vec::with_capacity(shifts.len());
    for shift in shifts {
        if shift.physician.is_some() {
            out.push(*shift);
            continue;
        }
        let previous = out.last().and_then(|s| s.physician);
        let available = |i: &usize| {
            let m = members[*i];
            !absences.iter().any(|a| a.account == m && a.span.overlaps(&shift.span))
        };
        let pick = (0..members.len()).filter(available).min_by_key(|i| (previous == Some(members[*i]), count[*i], *i));
        let physician = pick.map(|i| {
            count[i] += 1;
            members[i]
        });
        out.push(Shift { span: shift.span, physician });
    }
    out
}

/// Everything "who answers now" looks at for one patient.
#[derive(Debug, Clone, Default)]
pub struct ChainInput {
    pub primary: Option<AccountId>,
    pub backup: Vec<AccountId>,
    /// The shifts of the groups the primary (or else the backup) belongs to.
    pub shifts: Vec<Shift>,
    pub absences: Vec<Absence>,
    /// The patient's designated backup hospital first, then the others that
    /// take part in hospital backup, most free beds first.
    pub hospitals: Vec<FacilityId>,
}

/// Someone to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Responder {
    Physician(AccountId),
    Hospital(FacilityId),
}

/// One link of the chain: who, and why they are in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub responder: Responder,
    pub role: ChainRole,
}

/// Who answers for a patient at `t`, in order: the primary physician, the
/// backup physician(s), the group's physician on call — each only if not away
/// at `t`, and each once — then the backup hospitals. Physicians are named
/// only when they are available: nobody absent is ever in the answer.
pub fn who_answers(input: &ChainInput, t: OffsetDateTime) -> Vec<Link> {
    let mut chain: Vec<Link> = Vec::new();
    let push_physician = |chain: &mut Vec<Link>, p: AccountId, role: ChainRole| {
        let already = chain.iter().any(|l| l.responder == Responder::Physician(p));
        if !already && !is_absent(p, &input.absences, t) {
            chain.push(Link { responder: Responder::Physician(p), role });
        }
    };
    if let Some(p) = input.primary {
        push_physician(&mut chain, p, ChainRole::Primary);
    }
    for &b in &input.backup {
        push_physician(&mut chain, b, ChainRole::Backup);
    }
    for shift in input.shifts.iter().filter(|s| s.span.contains(t)) {
        if let Some(p) = shift.physician {
            push_physician(&mut chain, p, ChainRole::OnCall);
        }
    }
    let mut seen = Vec::new();
    for &h in &input.hospitals {
        if !seen.contains(&h) {
            seen.push(h);
            chain.push(Link { responder: Responder::Hospital(h), role: ChainRole::Hospital });
        }
    }
    chain
}

/// A stretch of time in which a patient would have no physician to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub span: Span,
}

/// The gaps in `[window.start, window.end)` during which [`who_answers`]
/// names no physician. Exact: the answer can only change where an absence or
/// a shift starts or ends, so it is evaluated once per stretch between those.
pub fn coverage_gaps(input: &ChainInput, window: Span) -> Vec<Gap> {
    let mut cuts: Vec<OffsetDateTime> = vec![window.start, window.end];
    let spans = input.absences.iter().map(|a| a.span).chain(input.shifts.iter().map(|s| s.span));
    for s in spans {
        for t in [s.start, s.end] {
            if window.contains(t) {
                cuts.push(t);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let mut gaps: Vec<Gap> = Vec::new();
    for pair in cuts.windows(2) {
        let [from, to] = [pair[0], pair[1]];
        let covered = who_answers(input, from).iter().any(|l| matches!(l.responder, Responder::Physician(_)));
        if covered {
            continue;
        }
        match gaps.last_mut() {
            Some(last) if last.span.end == from => last.span.end = to,
            _ => gaps.push(Gap { span: Span { start: from, end: to } }),
        }
    }
    gaps
}

/// The first moment of a Tokyo calendar month, in UTC, and of the next.
pub fn month_span(year: i32, month: Month) -> Option<Span> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let next = if month == Month::December {
        Date::from_calendar_date(year.checked_add(1)?, Month::January, 1).ok()?
    } else {
        Date::from_calendar_date(year, month.next(), 1).ok()?
    };
    Some(Span { start: at_jst(first, Time::MIDNIGHT)?, end: at_jst(next, Time::MIDNIGHT)? })
}

/// Parses `YYYY-MM` (a roster's month).
pub fn parse_month(raw: &str) -> Result<(i32, Month), ValidationError> {
    const FIELD: &str = "month";
    let (y, m) = raw.trim().split_once('-').ok_or(ValidationError::new(FIELD, "format"))?;
    let year: i32 = y.parse().map_err(|_| ValidationError::new(FIELD, "format"))?;
    let month: u8 = m.parse().map_err(|_| ValidationError::new(FIELD, "format"))?;
    let month = Month::try_from(month).map_err(|_| ValidationError::new(FIELD, "format"))?;
    if !holiday::YEARS.contains(&year) {
        return Err(ValidationError::new(FIELD, "out_of_range"));
    }
    Ok((year, month))
}

/// Parses a Tokyo local date-time as a browser's `datetime-local` sends it
/// (`2026-12-01T18:00`, seconds optional) into UTC.
pub fn parse_local_datetime(field: &'static str, raw: &str) -> Result<OffsetDateTime, ValidationError> {
    let raw = raw.trim();
    let (d, t) = raw.split_once(['T', ' ']).ok_or(ValidationError::new(field, "format"))?;
    let date = crate::patient::parse_date(field, d)?;
    let mut parts = t.split(':');
    let mut next = || parts.next().map(|p| p.parse::<u8>().map_err(|_| ValidationError::new(field, "format")));
    let hour = next().ok_or(ValidationError::new(field, "format"))??;
    let minute = next().ok_or(ValidationError::new(field, "format"))??;
    let second = next().transpose()?.unwrap_or(0);
    let time = Time::from_hms(hour, minute, second).map_err(|_| ValidationError::new(field, "format"))?;
    let at = at_jst(date, time).ok_or(ValidationError::new(field, "out_of_range"))?;
    // Room for the day either side that the roster and absence look-ups add.
    if at.checked_sub(Duration::days(2)).is_none() || at.checked_add(MAX_ABSENCE + Duration::days(2)).is_none() {
        return Err(ValidationError::new(field, "out_of_range"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};
    use uuid::Uuid;

    fn id(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(n))
    }

    fn hospital(n: u128) -> FacilityId {
        FacilityId(Uuid::from_u128(1000 + n))
    }

    fn absence(n: u128, start: OffsetDateTime, end: OffsetDateTime) -> Absence {
        Absence { account: id(n), span: Span { start, end }, reason: AbsenceReason::Conference }
    }

    #[test]
    fn december_2026_has_nights_and_day_off_slots() {
        let slots = roster_slots(2026, Month::December);
        let nights = slots.iter().filter(|s| s.kind == SlotKind::Night).count();
        let days_off = slots.iter().filter(|s| s.kind == SlotKind::DayOff).count();
        assert_eq!(nights, 31);
        // December 2026: 4 Saturdays + 4 Sundays, no national holiday.
        assert_eq!(days_off, 8);
        let first = slots.first().map(|s| s.span);
        // 1 December is a Tuesday: the first slot is that night, 18:00 JST = 09:00 UTC.
        assert_eq!(first, Some(Span { start: datetime!(2026-12-01 9:00 UTC), end: datetime!(2026-12-02 0:00 UTC) }));
    }

    #[test]
    fn public_holidays_get_a_daytime_slot() {
        // 2027-01-11 is 成人の日 (second Monday), 2026-11-23 is 勤労感謝の日 (a Monday).
        for (y, m, d) in [(2027, Month::January, date!(2027 - 01 - 11)), (2026, Month::November, date!(2026 - 11 - 23))]
        {
            let slots = roster_slots(y, m);
            assert!(slots.iter().any(|s| s.date == d && s.kind == SlotKind::DayOff), "{d}");
        }
        let weekday = roster_slots(2026, Month::November);
        assert!(!weekday.iter().any(|s| s.date == date!(2026 - 11 - 24) && s.kind == SlotKind::DayOff));
    }

    #[test]
    fn slots_tile_the_closed_hours_without_overlap() {
        let slots = roster_slots(2026, Month::May);
        for pair in slots.windows(2) {
            assert!(pair[0].span.end <= pair[1].span.start, "{pair:?}");
        }
        // Golden Week 2026: 3, 4, 5 May are holidays and 6 May is the substitute for 3 May (a Sunday).
        let days_off: Vec<Date> = slots.iter().filter(|s| s.kind == SlotKind::DayOff).map(|s| s.date).collect();
        for d in [date!(2026 - 05 - 03), date!(2026 - 05 - 04), date!(2026 - 05 - 05), date!(2026 - 05 - 06)] {
            assert!(days_off.contains(&d), "{d}");
        }
    }

    #[test]
    fn roster_check_finds_holes_absences_and_strangers() {
        let a = Span { start: datetime!(2026-12-01 9:00 UTC), end: datetime!(2026-12-02 0:00 UTC) };
        let b = Span { start: datetime!(2026-12-02 9:00 UTC), end: datetime!(2026-12-03 0:00 UTC) };
        let c = Span { start: datetime!(2026-12-03 9:00 UTC), end: datetime!(2026-12-04 0:00 UTC) };
        let d = Span { start: datetime!(2026-12-04 9:00 UTC), end: datetime!(2026-12-05 0:00 UTC) };
        let shifts = [
            Shift { span: a, physician: None },
            Shift { span: b, physician: Some(id(1)) },
            Shift { span: c, physician: Some(id(9)) },
            Shift { span: d, physician: Some(id(2)) },
        ];
        let absences = [absence(1, datetime!(2026-12-02 12:00 UTC), datetime!(2026-12-02 13:00 UTC))];
        let problems = check_roster(&shifts, &[id(1), id(2)], &absences);
        assert_eq!(
            problems,
            vec![
                RosterProblem::Hole { slot: a },
                RosterProblem::Absent { slot: b, physician: id(1), reason: AbsenceReason::Conference },
                RosterProblem::NotInGroup { slot: c, physician: id(9) },
            ]
        );
    }

    #[test]
    fn chain_skips_the_absent_and_ends_with_hospitals() {
        let night = Span { start: datetime!(2026-12-01 9:00 UTC), end: datetime!(2026-12-02 0:00 UTC) };
        let input = ChainInput {
            primary: Some(id(1)),
            backup: vec![id(2)],
            shifts: vec![Shift { span: night, physician: Some(id(3)) }],
            absences: vec![absence(1, datetime!(2026-12-01 0:00 UTC), datetime!(2026-12-03 0:00 UTC))],
            hospitals: vec![hospital(1), hospital(2), hospital(1)],
        };
        let at = datetime!(2026-12-01 18:00 UTC); // 3 a.m. in Tokyo
        let chain = who_answers(&input, at);
        let roles: Vec<ChainRole> = chain.iter().map(|l| l.role).collect();
        assert_eq!(roles, vec![ChainRole::Backup, ChainRole::OnCall, ChainRole::Hospital, ChainRole::Hospital]);
        assert_eq!(chain[0].responder, Responder::Physician(id(2)));
        // At noon the night shift is over: no on-call physician.
        let noon = who_answers(&input, datetime!(2026-12-02 3:00 UTC));
        assert!(!noon.iter().any(|l| l.role == ChainRole::OnCall));
    }

    #[test]
    fn the_on_call_physician_who_is_the_primary_appears_once() {
        let night = Span { start: datetime!(2026-12-01 9:00 UTC), end: datetime!(2026-12-02 0:00 UTC) };
        let input = ChainInput {
            primary: Some(id(1)),
            shifts: vec![Shift { span: night, physician: Some(id(1)) }],
            ..ChainInput::default()
        };
        assert_eq!(who_answers(&input, datetime!(2026-12-01 12:00 UTC)).len(), 1);
    }

    #[test]
    fn gaps_are_where_everyone_is_away_and_nobody_is_on_call() {
        let window = Span { start: datetime!(2026-12-01 0:00 UTC), end: datetime!(2026-12-11 0:00 UTC) };
        let input = ChainInput {
            primary: Some(id(1)),
            backup: vec![id(2)],
            shifts: vec![Shift {
                span: Span { start: datetime!(2026-12-03 9:00 UTC), end: datetime!(2026-12-04 0:00 UTC) },
                physician: Some(id(3)),
            }],
            absences: vec![
                absence(1, datetime!(2026-12-02 0:00 UTC), datetime!(2026-12-05 0:00 UTC)),
                absence(2, datetime!(2026-12-03 0:00 UTC), datetime!(2026-12-06 0:00 UTC)),
            ],
            hospitals: vec![hospital(1)],
        };
        let gaps: Vec<Span> = coverage_gaps(&input, window).into_iter().map(|g| g.span).collect();
        assert_eq!(
            gaps,
            vec![
                Span { start: datetime!(2026-12-03 0:00 UTC), end: datetime!(2026-12-03 9:00 UTC) },
                Span { start: datetime!(2026-12-04 0:00 UTC), end: datetime!(2026-12-05 0:00 UTC) },
            ]
        );
    }

    #[test]
    fn parses_months_and_local_times() {
        assert_eq!(parse_month("2026-12"), Ok((2026, Month::December)));
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("december").is_err());
        assert_eq!(parse_local_datetime("starts_at", "2026-12-01T18:00"), Ok(datetime!(2026-12-01 9:00 UTC)));
        assert!(parse_local_datetime("starts_at", "2026-12-01T25:00").is_err());
        for far in ["-9999-01-01T00:00", "9999-12-31T23:59", "9999-12-01T00:00", "-9999-01-02T00:00"] {
            assert_eq!(
                parse_local_datetime("starts_at", far),
                Err(ValidationError::new("starts_at", "out_of_range")),
                "{far}"
            );
        }
        assert!(month_span(i32::MAX, Month::December).is_none());
        assert!(Span::parse(datetime!(2026-12-02 0:00 UTC), datetime!(2026-12-01 0:00 UTC)).is_err());
        assert_eq!(
            month_span(2026, Month::December).map(|s| s.end),
            Some(datetime!(2026-12-31 15:00 UTC)) // 1 January 2027, 0:00 JST
        );
    }

    #[test]
    fn filling_holes_rotates_and_skips_the_absent() {
        let slots = roster_slots(2026, Month::December);
        let shifts: Vec<Shift> = slots.iter().map(|s| Shift { span: s.span, physician: None }).collect();
        let away = absence(1, datetime!(2026-12-01 0:00 UTC), datetime!(2026-12-08 0:00 UTC));
        let members = [id(1), id(2), id(3)];
        let filled = fill_holes(&shifts, &members, std::slice::from_ref(&away));
        assert!(check_roster(&filled, &members, std::slice::from_ref(&away)).is_empty());
        for pair in filled.windows(2) {
            assert_ne!(pair[0].physician, pair[1].physician, "two slots running");
        }
        let per: Vec<usize> =
            members.iter().map(|m| filled.iter().filter(|s| s.physician == Some(*m)).count()).collect();
        assert!(per.iter().max().zip(per.iter().min()).is_some_and(|(a, b)| a - b <= 3), "{per:?}");
        // Everyone away: the holes stay.
        let all_away: Vec<Absence> = members.iter().map(|m| Absence { account: *m, ..away.clone() }).collect();
        let first_week = fill_holes(&shifts[..3], &members, &all_away);
        assert!(first_week.iter().all(|s| s.physician.is_none()));
    }

    fn arbitrary_input() -> impl Strategy<Value = (ChainInput, i64)> {
        let base = datetime!(2026-12-01 0:00 UTC);
        let span = move || {
            (0i64..24 * 14, 1i64..24 * 5).prop_map(move |(start, len)| Span {
                start: base + Duration::hours(start),
                end: base + Duration::hours(start + len),
            })
        };
        let absences = proptest::collection::vec(
            (1u128..6, span()).prop_map(|(n, span)| Absence { account: id(n), span, reason: AbsenceReason::Leave }),
            0..12,
        );
        let shifts = proptest::collection::vec(
            (proptest::option::of(1u128..6), span()).prop_map(|(p, span)| Shift { span, physician: p.map(id) }),
            0..12,
        );
        let hospitals = proptest::collection::vec((1u128..4).prop_map(hospital), 0..4);
        (
            proptest::option::of(1u128..6),
            proptest::collection::vec(1u128..6, 0..3),
            shifts,
            absences,
            hospitals,
            0i64..24 * 14 * 60,
        )
            .prop_map(|(primary, backup, shifts, absences, hospitals, minute)| {
                let input = ChainInput {
                    primary: primary.map(id),
                    backup: backup.into_iter().map(id).collect(),
                    shifts,
                    absences,
                    hospitals,
                };
                (input, minute)
            })
    }

    proptest! {
        /// For any roster and absences, "who answers now" never names someone absent.
        #[test]
        fn never_names_someone_absent((input, minute) in arbitrary_input()) {
            let at = datetime!(2026-12-01 0:00 UTC) + Duration::minutes(minute);
            for link in who_answers(&input, at) {
                if let Responder::Physician(p) = link.responder {
                    prop_assert!(!is_absent(p, &input.absences, at), "{p:?} is away at {at}");
                }
            }
        }

        /// Hospitals come last, physicians at most once each.
        #[test]
        fn hospitals_last_and_nobody_twice((input, minute) in arbitrary_input()) {
            let at = datetime!(2026-12-01 0:00 UTC) + Duration::minutes(minute);
            let chain = who_answers(&input, at);
            let first_hospital = chain.iter().position(|l| l.role == ChainRole::Hospital).unwrap_or(chain.len());
            prop_assert!(chain[first_hospital..].iter().all(|l| l.role == ChainRole::Hospital));
            let mut seen = std::collections::HashSet::new();
            prop_assert!(chain.iter().all(|l| seen.insert(l.responder)));
        }

        /// A moment is in a gap exactly when nobody answers then.
        #[test]
        fn gaps_match_who_answers((input, minute) in arbitrary_input()) {
            let window = Span { start: datetime!(2026-12-01 0:00 UTC), end: datetime!(2026-12-15 0:00 UTC) };
            let at = window.start + Duration::minutes(minute);
            let in_gap = coverage_gaps(&input, window).iter().any(|g| g.span.contains(at));
            let answered = who_answers(&input, at).iter().any(|l| matches!(l.responder, Responder::Physician(_)));
            prop_assert_eq!(in_gap, !answered);
        }
    }
}
