//! FHIR search date parameters (`crates/domain/src/fhir_search.rs`): any text, and up to four
//! values at once, as `birthdate` (days) and as `date`/`_lastUpdated` (instants). Checks: no
//! panic (no time arithmetic overflows); every bound of an instant is in UTC and leaves room for
//! a day either side; one value with `eq` (or none) gives a non-empty range; a date that reads
//! reads the same as an instant's day.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::{Duration, UtcOffset};
use tsunagu_domain::fhir_search::{YEARS, date_range, instant_range};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let values: Vec<&str> = text.split('&').take(4).collect();
    if let Ok((from, to)) = date_range("birthdate", &values) {
        for day in from.into_iter().chain(to) {
            assert!((YEARS.start() - 1..=YEARS.end() + 1).contains(&day.year()), "{day}");
        }
        if let [one] = values.as_slice() {
            let plain = !one.trim().starts_with(|c: char| c.is_ascii_alphabetic()) || one.trim().starts_with("eq");
            if let (true, Some(from), Some(to)) = (plain, from, to) {
                assert!(from <= to, "{one}: {from} > {to}");
            }
        }
    }
    if let Ok((since, until)) = instant_range("date", &values) {
        for at in since.into_iter().chain(until) {
            assert_eq!(at.offset(), UtcOffset::UTC);
            assert!(at.checked_add(Duration::days(1)).is_some() && at.checked_sub(Duration::days(1)).is_some());
        }
        if let ([one], Some(since), Some(until)) = (values.as_slice(), since, until) {
            assert!(since < until, "{one}: {since} >= {until}");
        }
    }
});
