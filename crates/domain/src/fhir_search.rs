//! FHIR search date parameters (`birthdate`, `date`, `_lastUpdated`): the
//! prefixes `eq`, `ge`, `gt`, `le`, `lt` on dates of any precision (`1940`,
//! `1940-05`, `1940-05-03`) and, for instants, full date-times
//! (`2026-11-29T10:00:00+09:00`). Pure functions of the query's text, so that
//! they are fuzzed with the other parsers of outside input; the web layer turns
//! a [`ValidationError`] into an OperationOutcome.
//!
//! Every bound is computed with checked arithmetic: a search date must lie in
//! [`YEARS`], so that the day after its last day, the microsecond after an
//! instant and its conversion to UTC are always representable. Anything
//! outside is refused as `out_of_range`, never answered by a panic.

use crate::ValidationError;
use crate::clock::JST;
use std::ops::RangeInclusive;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// The years a search date may name (both ends leave room for a day and an
/// offset of up to a day either side).
pub const YEARS: RangeInclusive<i32> = 1..=9998;

/// The error codes (`field` is the parameter's name).
pub const UNSUPPORTED_PREFIX: &str = "prefix";
pub const UNREADABLE: &str = "date";
pub const OUT_OF_RANGE: &str = "out_of_range";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

fn split_prefix<'a>(param: &'static str, raw: &'a str) -> Result<(Prefix, &'a str), ValidationError> {
    let known = [("eq", Prefix::Eq), ("ge", Prefix::Ge), ("gt", Prefix::Gt), ("le", Prefix::Le), ("lt", Prefix::Lt)];
    for (code, prefix) in known {
        if let Some(rest) = raw.strip_prefix(code) {
            return Ok((prefix, rest));
        }
    }
    if raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(ValidationError::new(param, UNSUPPORTED_PREFIX));
    }
    Ok((Prefix::Eq, raw))
}

/// Digits only, exactly `len` of them (no sign, no spaces).
fn number(s: &str, len: usize) -> Option<i32> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

/// The first and last day a date of any precision covers.
fn period(param: &'static str, raw: &str) -> Result<(Date, Date), ValidationError> {
    let bad = || ValidationError::new(param, UNREADABLE);
    let parts: Vec<&str> = raw.split('-').collect();
    let year = parts.first().and_then(|y| number(y, 4)).ok_or_else(bad)?;
    if !YEARS.contains(&year) {
        return Err(ValidationError::new(param, OUT_OF_RANGE));
    }
    let month = |m: &str| number(m, 2).and_then(|m| u8::try_from(m).ok()).and_then(|m| Month::try_from(m).ok());
    match parts.as_slice() {
        [_] => Ok((
            Date::from_calendar_date(year, Month::January, 1).map_err(|_| bad())?,
            Date::from_calendar_date(year, Month::December, 31).map_err(|_| bad())?,
        )),
        [_, m] => {
            let m = month(m).ok_or_else(bad)?;
            let first = Date::from_calendar_date(year, m, 1).map_err(|_| bad())?;
            let last = Date::from_calendar_date(year, m, m.length(year)).map_err(|_| bad())?;
            Ok((first, last))
        }
        [_, m, d] => {
            let m = month(m).ok_or_else(bad)?;
            let d = number(d, 2).and_then(|d| u8::try_from(d).ok()).ok_or_else(bad)?;
            let day = Date::from_calendar_date(year, m, d).map_err(|_| bad())?;
            Ok((day, day))
        }
        _ => Err(bad()),
    }
}

/// Keeps the later of two lower bounds and the earlier of two upper ones.
fn narrow<T: Ord + Copy>(bounds: &mut (Option<T>, Option<T>), lo: Option<T>, hi: Option<T>) {
    bounds.0 = bounds.0.max(lo);
    bounds.1 = match (bounds.1, hi) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// Days `[from, to]` (either open) that every value of a date parameter allows.
pub fn date_range(param: &'static str, values: &[&str]) -> Result<(Option<Date>, Option<Date>), ValidationError> {
    let out = || ValidationError::new(param, OUT_OF_RANGE);
    let mut bounds = (None, None);
    for raw in values {
        let (prefix, value) = split_prefix(param, raw.trim())?;
        let (first, last) = period(param, value)?;
        let (lo, hi) = match prefix {
            Prefix::Eq => (Some(first), Some(last)),
            Prefix::Ge => (Some(first), None),
            Prefix::Gt => (Some(last.next_day().ok_or_else(out)?), None),
            Prefix::Le => (None, Some(last)),
            Prefix::Lt => (None, Some(first.previous_day().ok_or_else(out)?)),
        };
        narrow(&mut bounds, lo, hi);
    }
    Ok(bounds)
}

/// A date-time as FHIR writes it (RFC 3339 with seconds, at most nine digits
/// of a second), in UTC.
fn instant(param: &'static str, value: &str) -> Result<OffsetDateTime, ValidationError> {
    let bad = || ValidationError::new(param, UNREADABLE);
    let fraction = value.split_once('.').map_or("", |(_, rest)| rest);
    if fraction.bytes().take_while(u8::is_ascii_digit).count() > 9 {
        return Err(bad());
    }
    let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).map_err(|_| bad())?;
    let at = at.checked_to_offset(UtcOffset::UTC).ok_or_else(|| ValidationError::new(param, OUT_OF_RANGE))?;
    if !YEARS.contains(&at.year()) {
        return Err(ValidationError::new(param, OUT_OF_RANGE));
    }
    Ok(at)
}

/// Midnight in Japan at the start of `day`, in UTC.
fn jst_midnight(day: Date) -> Option<OffsetDateTime> {
    day.with_time(Time::MIDNIGHT).assume_offset(JST).checked_to_offset(UtcOffset::UTC)
}

/// Instants `[since, until)` (either open) that every value allows: dates
/// count in Japan time, a date-time as given. Both are in UTC.
pub fn instant_range(
    param: &'static str,
    values: &[&str],
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), ValidationError> {
    let out = || ValidationError::new(param, OUT_OF_RANGE);
    let mut bounds = (None, None);
    for raw in values {
        let (prefix, value) = split_prefix(param, raw.trim())?;
        let (start, end) = if value.contains('T') {
            let at = instant(param, value)?;
            (at, at.checked_add(Duration::microseconds(1)).ok_or_else(out)?)
        } else {
            let (first, last) = period(param, value)?;
            let start = jst_midnight(first).ok_or_else(out)?;
            let end = jst_midnight(last).and_then(|m| m.checked_add(Duration::days(1))).ok_or_else(out)?;
            (start, end)
        };
        let (lo, hi) = match prefix {
            Prefix::Eq => (Some(start), Some(end)),
            Prefix::Ge => (Some(start), None),
            Prefix::Gt => (Some(end), None),
            Prefix::Le => (None, Some(end)),
            Prefix::Lt => (None, Some(start)),
        };
        narrow(&mut bounds, lo, hi);
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    #[test]
    fn date_prefixes_bound_the_days() {
        let r = |v: &[&str]| date_range("birthdate", v).unwrap();
        assert_eq!(r(&["1940"]), (Some(date!(1940 - 01 - 01)), Some(date!(1940 - 12 - 31))));
        assert_eq!(r(&["1940-02"]), (Some(date!(1940 - 02 - 01)), Some(date!(1940 - 02 - 29))));
        assert_eq!(r(&["eq1940-05-03"]), (Some(date!(1940 - 05 - 03)), Some(date!(1940 - 05 - 03))));
        assert_eq!(r(&["gt1940"]), (Some(date!(1941 - 01 - 01)), None));
        assert_eq!(r(&["lt1940-05"]), (None, Some(date!(1940 - 04 - 30))));
        assert_eq!(r(&["ge1940", "le1945-06"]), (Some(date!(1940 - 01 - 01)), Some(date!(1945 - 06 - 30))));
        for bad in ["1940-13", "19400", "ne1940", "sa1940", "1940-02-30", "x", "+940", "194 ", "1940-+1"] {
            assert!(date_range("birthdate", &[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_count_dates_in_japan_time() {
        let (since, until) = instant_range("date", &["2026-11-29"]).unwrap();
        assert_eq!(since, Some(datetime!(2026-11-28 15:00 UTC)));
        assert_eq!(until, Some(datetime!(2026-11-29 15:00 UTC)));
        let (since, until) = instant_range("date", &["ge2026-11-29T10:00:00+09:00"]).unwrap();
        assert_eq!((since, until), (Some(datetime!(2026-11-29 01:00 UTC)), None));
        let (since, until) = instant_range("date", &["lt2026-11"]).unwrap();
        assert_eq!((since, until), (None, Some(datetime!(2026-10-31 15:00 UTC))));
        assert!(instant_range("date", &["2026-11-29T25:00:00Z"]).is_err());
        let (since, _) = instant_range("date", &["ge2026-11-29T10:00:00.123456789Z"]).unwrap();
        assert_eq!(since, Some(datetime!(2026-11-29 10:00:00.123456789 UTC)));
    }

    #[test]
    fn dates_at_the_ends_of_time_are_refused_not_panicked_on() {
        for (raw, code) in [
            ("9999", OUT_OF_RANGE),
            ("le9999-12-31", OUT_OF_RANGE),
            ("gt9999-12-31", OUT_OF_RANGE),
            ("gt9999-12-31T23:59:59.999999999Z", OUT_OF_RANGE),
            ("9998-12-31T23:59:59-23:59", OUT_OF_RANGE),
            ("lt0000", OUT_OF_RANGE),
            ("0000-01-01T00:00:00+09:00", OUT_OF_RANGE),
            ("-0001", UNREADABLE),
            ("10000", UNREADABLE),
            ("99999-01-01", UNREADABLE),
            ("+9999", UNREADABLE),
            ("2026-11-29T10:00:00.0000000001Z", UNREADABLE),
            ("2026-11-29T10:00:00.99999999999999999999999999999Z", UNREADABLE),
        ] {
            assert_eq!(instant_range("_lastUpdated", &[raw]), Err(ValidationError::new("_lastUpdated", code)), "{raw}");
            if !raw.contains('T') {
                assert_eq!(date_range("birthdate", &[raw]), Err(ValidationError::new("birthdate", code)), "{raw}");
            }
        }
        // The last and first years allowed work at both ends.
        assert!(instant_range("date", &["gt9998-12-31T23:59:59.999999999Z", "le9998-12-31"]).is_ok());
        assert!(instant_range("date", &["lt0001-01-01"]).is_ok());
        assert!(date_range("birthdate", &["gt9998-12-31", "lt0001"]).is_ok());
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused(raw in ".{0,40}", tail in "[0-9T:.Z+-]{0,30}", p in "(eq|ge|gt|le|lt)?") {
            for value in [raw.clone(), format!("{p}{tail}"), format!("{p}9{tail}")] {
                if let Ok((from, to)) = date_range("birthdate", &[value.as_str()]) {
                    prop_assert!(from.is_some() || to.is_some());
                }
                if let Ok((since, until)) = instant_range("date", &[value.as_str()]) {
                    for at in since.into_iter().chain(until) {
                        prop_assert_eq!(at.offset(), UtcOffset::UTC);
                        prop_assert!(at.checked_add(Duration::days(1)).is_some());
                    }
                    if let (Some(since), Some(until)) = (since, until) {
                        prop_assert!(since < until);
                    }
                }
            }
        }

        #[test]
        fn every_day_in_range_reads_back(y in 1i32..=9998, d in 1u16..=365) {
            let day = Date::from_ordinal_date(y, d).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day());
            prop_assert_eq!(date_range("birthdate", &[text.as_str()]), Ok((Some(day), Some(day))));
            let after = format!("gt{text}");
            prop_assert!(instant_range("date", &[after.as_str()]).is_ok());
        }
    }
}
