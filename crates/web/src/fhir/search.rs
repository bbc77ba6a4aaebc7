//! Search parameters: which a search accepts (anything else is reported,
//! never ignored), `_count` and `_offset`, and date prefixes (`eq`, `ge`,
//! `gt`, `le`, `lt`) on dates of any precision (`1940`, `1940-05`,
//! `1940-05-03`) and, for instants, full date-times.

use super::outcome::{FhirError, Issue};
use axum::http::StatusCode;
use time::{Date, OffsetDateTime};
use tsunagu_domain::{ValidationError, fhir_search};

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

/// Turns a refused date parameter into a 400 naming it.
fn date_error(e: ValidationError, raw: &[&str]) -> FhirError {
    let param = e.field;
    let shown = raw.join(", ");
    let issue = match e.code {
        fhir_search::UNSUPPORTED_PREFIX => Issue::new(
            "not-supported",
            "日付の比較は eq, ge, gt, le, lt に対応 / date prefixes supported: eq, ge, gt, le, lt",
            Some(param),
        ),
        fhir_search::OUT_OF_RANGE => invalid(
            param,
            format!(
                "{param}={shown}: 日付は{}年から{}年まで / dates must be in the years {} to {}",
                fhir_search::YEARS.start(),
                fhir_search::YEARS.end(),
                fhir_search::YEARS.start(),
                fhir_search::YEARS.end()
            ),
        ),
        _ => invalid(param, format!("日付 {shown} を読めません / cannot read the date {shown}")),
    };
    bad_request(vec![issue])
}

/// Days `[from, to]` (either open) that every value of a date parameter allows
/// (the domain's [`fhir_search::date_range`]).
pub(crate) fn date_range(param: &'static str, values: &[&str]) -> Result<(Option<Date>, Option<Date>), FhirError> {
    fhir_search::date_range(param, values).map_err(|e| date_error(e, values))
}

/// Instants `[since, until)` (either open) that every value allows: dates
/// count in Japan time, a date-time as given (the domain's
/// [`fhir_search::instant_range`]).
pub(crate) fn instant_range(
    param: &'static str,
    values: &[&str],
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), FhirError> {
    fhir_search::instant_range(param, values).map_err(|e| date_error(e, values))
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
    use time::macros::date;

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
    fn refused_dates_are_a_bad_request_naming_the_parameter() {
        assert_eq!(
            date_range("birthdate", &["1940"]).unwrap(),
            (Some(date!(1940 - 01 - 01)), Some(date!(1940 - 12 - 31)))
        );
        for (raw, issue) in [("ne1940", "not-supported"), ("1940-13", "invalid"), ("9999", "invalid")] {
            let e = instant_range("_lastUpdated", &[raw]).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{raw}");
            assert_eq!(e.issues[0].code, issue, "{raw}");
            assert_eq!(e.issues[0].expression.as_deref(), Some("_lastUpdated"), "{raw}");
        }
    }

    #[test]
    fn references_name_their_resource() {
        assert_eq!(reference_id("patient", "abc", "Patient").unwrap(), "abc");
        assert_eq!(reference_id("patient", "Patient/abc", "Patient").unwrap(), "abc");
        assert_eq!(reference_id("patient", "https://x.example/fhir/Patient/abc", "Patient").unwrap(), "abc");
        assert!(reference_id("patient", "Patient/", "Patient").is_err());
    }
}
