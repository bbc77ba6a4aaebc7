//! The era-date reader of the 届出受理医療機関名簿 (「令和 4年10月 1日」, `R4.10.1`, `2024/4/1`):
//! never a panic; what it reads is a real day no earlier than 大正, and it reads its own
//! ISO 8601 and 年月日 renderings back to the same day.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::macros::date;
use tsunagu_import::parse_era_date;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some(day) = parse_era_date(&text) else { return };
    assert!(day >= date!(1000 - 01 - 01) && day <= date!(9999 - 12 - 31), "{text:?} -> {day}");
    let (y, m, d) = (day.year(), u8::from(day.month()), day.day());
    for rendering in [format!("{y:04}-{m:02}-{d:02}"), format!("{y}年{m}月{d}日"), format!("{y}/{m}/{d}")] {
        assert_eq!(parse_era_date(&rendering), Some(day), "{text:?} -> {day} -> {rendering:?}");
    }
    // Spaces anywhere, and full-width digits, change nothing.
    let spaced: String = text.chars().flat_map(|c| [c, '\u{3000}']).collect();
    assert_eq!(parse_era_date(&spaced), Some(day), "{text:?} spaced out");
});
