//! Search parameters: which a search accepts (anything else is reported,
//! never ignored), `_count` and `_offset`, and date prefixes (`eq`, `ge`,
//! `gt`, `le`, `lt`) on dates of any precision (`1940`, `1940-05`,
//! `1940-05-03`) and, for instants, full date-times.

use super::outcome::{FhirError, Issue};
use axum::http::StatusCode;
use time::{Date, Month, OffsetDateTime, Time};
use tsunagu_domain::clock::JST;

pub(crate) const DEFAULT_COUNT: usize = 20;
pub(crate) const MAX_COUNT: usize = 100;
pub(crate) const MAX_OFFSET: usize = 10_000;
/// Parameters every search accepts besides its own.
const COMMON: &[&str] = &["_count", "_offset", "_format"];

/// A search's parameters, checked against what it supports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

fn invalid(param: &str, diagnostics: impl Into<String>) -> Issue {
    Issue::new("invalid", diagnostics, Some(param))
}

/// `_sort` on the timeline's resources (Observation, Communication,
/// Encounter): newest first by default and with `-{by}` (`-date`, `-sent`),
/// oldest first with `{by}`; whether oldest first. Any other order is named as
/// unsupported, not ignored.
pub(crate) fn oldest_first(params: &Params, by: &str) -> Result<bool, FhirError> {
    match params.one("_sort")? {
        None => Ok(false),
        Some(sort) if sort.strip_prefix('-') == Some(by) => Ok(false),
        Some(sort) if sort == by => Ok(true),
        Some(other) => Err(bad_request(vec![Issue::new(
            "not-supported",
            format!("_sort={other}: {by}（古い順）か -{by}（新しい順）/ {by} oldest first, or -{by} newest first"),
            Some("_sort"),
        )])),
    }
}

pub(crate) fn bad_request(issues: Vec<Issue>) -> FhirError {
    FhirError::new(StatusCode::BAD_REQUEST, issues)
}

impl Params {
    /// Refuses parameters (and modifiers) the search does not support, all of them at once.
    pub(crate) fn parse(pairs: Vec<(String, String)>, supported: &[&str]) -> Result<Self, FhirError> {
        let mut issues = Vec::new();
        for (name, value) in &pairs {
            if !supported.contains(&name.as_str()) && !COMMON.contains(&name.as_str()) {
                issues.push(Issue::new(
                    "not-supported",
                    format!("検索パラメータ {name} には対応していません / unsupported search parameter {name}"),
                    Some(name),
                ));
            }
            if name == "_format" && !matches!(value.as_str(), "json" | "application/json" | "application/fhir+json") {
                issues.push(Issue::new("not-supported", "JSON のみ対応 / only JSON is supported", Some("_format")));
            }
        }
        if issues.is_empty() { Ok(Self { pairs }) } else { Err(bad_request(issues)) }
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// A parameter that may appear once.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, FhirError> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [v] if v.trim().is_empty() => {
                Err(bad_request(vec![invalid(name, format!("{name} が空です / {name} is empty"))]))
            }
            [v] => Ok(Some(v.trim())),
            _ => {
                Err(bad_request(vec![invalid(name, format!("{name} は一度だけ指定できます / {name} may appear once"))]))
            }
        }
    }

    /// `_count`: the page size, 1 to [`MAX_COUNT`].
    pub(crate) fn count(&self) -> Result<usize, FhirError> {
        self.number("_count", DEFAULT_COUNT, 1, MAX_COUNT)
    }

    /// `_offset`: where the page starts, 0 to [`MAX_OFFSET`].
    pub(crate) fn offset(&self) -> Result<usize, FhirError> {
        self.number("_offset", 0, 0, MAX_OFFSET)
    }

    fn number(&self, name: &str, default: usize, min: usize, max: usize) -> Result<usize, FhirError> {
        match self.one(name)? {
            None => Ok(default),
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(bad_request(vec![invalid(
                    name,
                    format!("{name} は {min}〜{max} / {name} must be {min} to {max}"),
                )])),
            },
        }
    }

    /// The queries of the next page (when there is one) and of the previous one.
    pub(crate) fn neighbours(&self, offset: usize, count: usize, has_next: bool) -> (Option<String>, Option<String>) {
        let next = has_next.then(|| self.at_offset(offset + count, count));
        let previous = (offset > 0).then(|| self.at_offset(offset.saturating_sub(count), count));
        (next, previous)
    }

    /// The query string of this search at another offset (for paging links).
    pub(crate) fn at_offset(&self, offset: usize, count: usize) -> String {
        let mut parts: Vec<String> = self
            .pairs
            .iter()
            .filter(|(n, _)| n != "_offset" && n != "_count")
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect();
        parts.push(format!("_count={count}"));
        if offset > 0 {
            parts.push(format!("_offset={offset}"));
        }
        parts.join("&")
    }
}

/// Percent-encodes a query component (unreserved characters stay).
fn encode(raw: &str) -> String {
    let mut out = String::new();
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~|:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

fn split_prefix<'a>(param: &str, raw: &'a str) -> Result<(Prefix, &'a str), FhirError> {
    let known = [("eq", Prefix::Eq), ("ge", Prefix::Ge), ("gt", Prefix::Gt), ("le", Prefix::Le), ("lt", Prefix::Lt)];
    if let Some((_, p)) = known.iter().find(|(code, _)| raw.starts_with(code)) {
        return Ok((*p, &raw[2..]));
    }
    if raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad_request(vec![Issue::new(
            "not-supported",
            "日付の比較は eq, ge, gt, le, lt に対応 / date prefixes supported: eq, ge, gt, le, lt",
            Some(param),
        )]));
    }
    Ok((Prefix::Eq, raw))
}

/// The first and last day a date of any precision covers.
fn period(param: &str, raw: &str) -> Result<(Date, Date), FhirError> {
    let bad = || bad_request(vec![invalid(param, format!("日付 {raw} を読めません / cannot read the date {raw}"))]);
    let parts: Vec<&str> = raw.split('-').collect();
    let number = |s: &str, len: usize| if s.len() == len { s.parse::<i32>().ok() } else { None };
    let year = parts.first().and_then(|y| number(y, 4)).ok_or_else(bad)?;
    let month = |m: i32| u8::try_from(m).ok().and_then(|m| Month::try_from(m).ok());
    match parts.as_slice() {
        [_] => Ok((
            Date::from_calendar_date(year, Month::January, 1).map_err(|_| bad())?,
            Date::from_calendar_date(year, Month::December, 31).map_err(|_| bad())?,
        )),
        [_, m] => {
            let m = number(m, 2).and_then(month).ok_or_else(bad)?;
            let first = Date::from_calendar_date(year, m, 1).map_err(|_| bad())?;
            let last = Date::from_calendar_date(year, m, m.length(year)).map_err(|_| bad())?;
            Ok((first, last))
        }
        [_, m, d] => {
            let m = number(m, 2).and_then(month).ok_or_else(bad)?;
            let d = number(d, 2).and_then(|d| u8::try_from(d).ok()).ok_or_else(bad)?;
            let day = Date::from_calendar_date(year, m, d).map_err(|_| bad())?;
            Ok((day, day))
        }
        _ => Err(bad()),
    }
}

/// Days `[from, to]` (either open) that every value of a date parameter allows.
pub(crate) fn date_range(param: &str, values: &[&str]) -> Result<(Option<Date>, Option<Date>), FhirError> {
    let (mut from, mut to): (Option<Date>, Option<Date>) = (None, None);
    for raw in values {
        let (prefix, value) = split_prefix(param, raw.trim())?;
        let (first, last) = period(param, value)?;
        let (lo, hi) = match prefix {
            Prefix::Eq => (Some(first), Some(last)),
            Prefix::Ge => (Some(first), None),
            Prefix::Gt => (last.next_day(), None),
            Prefix::Le => (None, Some(last)),
            Prefix::Lt => (None, first.previous_day()),
        };
        from = from.max(lo);
        to = match (to, hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok((from, to))
}

/// Instants `[since, until)` (either open) that every value allows: dates
/// count in Japan time, a date-time as given.
pub(crate) fn instant_range(
    param: &str,
    values: &[&str],
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), FhirError> {
    let (mut since, mut until): (Option<OffsetDateTime>, Option<OffsetDateTime>) = (None, None);
    let midnight = |d: Date| d.with_time(Time::MIDNIGHT).assume_offset(JST);
    for raw in values {
        let (prefix, value) = split_prefix(param, raw.trim())?;
        let (start, end) = if value.contains('T') {
            let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).map_err(|_| {
                bad_request(vec![invalid(param, format!("日時 {value} を読めません / cannot read {value}"))])
            })?;
            (at, at + time::Duration::microseconds(1))
        } else {
            let (first, last) = period(param, value)?;
            (midnight(first), midnight(last) + time::Duration::days(1))
        };
        let (lo, hi) = match prefix {
            Prefix::Eq => (Some(start), Some(end)),
            Prefix::Ge => (Some(start), None),
            Prefix::Gt => (Some(end), None),
            Prefix::Le => (None, Some(end)),
            Prefix::Lt => (None, Some(start)),
        };
        since = since.max(lo);
        until = match (until, hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok((since, until))
}

/// The id in a reference parameter: `123`, `Patient/123` or a full URL ending so.
pub(crate) fn reference_id<'a>(param: &str, raw: &'a str, resource: &str) -> Result<&'a str, FhirError> {
    let tail = raw.rsplit_once(&format!("{resource}/")).map_or(raw, |(_, id)| id);
    if tail.is_empty() || tail.contains('/') {
        return Err(bad_request(vec![invalid(
            param,
            format!("{resource} を指してください / must refer to a {resource}"),
        )]));
    }
    Ok(tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn params(q: &[(&str, &str)], supported: &[&str]) -> Result<Params, FhirError> {
        Params::parse(q.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), supported)
    }

    #[test]
    fn unknown_parameters_are_all_reported() {
        let e = params(&[("name", "x"), ("foo", "1"), ("name:exact", "y")], &["name"]).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let named: Vec<_> = e.issues.iter().map(|i| i.expression.clone().unwrap()).collect();
        assert_eq!(named, ["foo", "name:exact"]);
        assert!(params(&[("_format", "xml")], &[]).is_err());
        assert!(params(&[("_format", "json"), ("_count", "5")], &[]).is_ok());
    }

    #[test]
    fn count_and_offset_are_bounded() {
        assert_eq!(params(&[], &[]).unwrap().count().unwrap(), DEFAULT_COUNT);
        assert_eq!(params(&[("_count", "100")], &[]).unwrap().count().unwrap(), 100);
        for bad in ["0", "101", "-1", "x"] {
            assert!(params(&[("_count", bad)], &[]).unwrap().count().is_err(), "{bad}");
        }
        assert!(params(&[("_offset", "10001")], &[]).unwrap().offset().is_err());
        assert!(params(&[("_count", "5"), ("_count", "6")], &[]).unwrap().count().is_err());
    }

    #[test]
    fn paging_links_keep_the_search() {
        let p = params(&[("name", "山田 太"), ("_count", "5"), ("_offset", "5")], &["name"]).unwrap();
        assert_eq!(p.at_offset(10, 5), "name=%E5%B1%B1%E7%94%B0%20%E5%A4%AA&_count=5&_offset=10");
        assert_eq!(p.at_offset(0, 5), "name=%E5%B1%B1%E7%94%B0%20%E5%A4%AA&_count=5");
    }

    #[test]
    fn date_prefixes_bound_the_days() {
        let r = |v: &[&str]| date_range("birthdate", v).unwrap();
        assert_eq!(r(&["1940"]), (Some(date!(1940 - 01 - 01)), Some(date!(1940 - 12 - 31))));
        assert_eq!(r(&["1940-02"]), (Some(date!(1940 - 02 - 01)), Some(date!(1940 - 02 - 29))));
        assert_eq!(r(&["eq1940-05-03"]), (Some(date!(1940 - 05 - 03)), Some(date!(1940 - 05 - 03))));
        assert_eq!(r(&["gt1940"]), (Some(date!(1941 - 01 - 01)), None));
        assert_eq!(r(&["lt1940-05"]), (None, Some(date!(1940 - 04 - 30))));
        assert_eq!(r(&["ge1940", "le1945-06"]), (Some(date!(1940 - 01 - 01)), Some(date!(1945 - 06 - 30))));
        for bad in ["1940-13", "19400", "ne1940", "sa1940", "1940-02-30", "x"] {
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
    }

    #[test]
    fn references_name_their_resource() {
        assert_eq!(reference_id("patient", "abc", "Patient").unwrap(), "abc");
        assert_eq!(reference_id("patient", "Patient/abc", "Patient").unwrap(), "abc");
        assert_eq!(reference_id("patient", "https://x.example/fhir/Patient/abc", "Patient").unwrap(), "abc");
        assert!(reference_id("patient", "Patient/", "Patient").is_err());
    }
}
