//! Japanese era dates as printed in government lists.

use time::{Date, Month};

struct Era {
    name: &'static str,
    letter: char,
    /// The Gregorian year of 元年.
    first_year: i32,
    /// The era's first day.
    start: (i32, u8, u8),
}

const ERAS: &[Era] = &[
    Era { name: "令和", letter: 'R', first_year: 2019, start: (2019, 5, 1) },
    Era { name: "平成", letter: 'H', first_year: 1989, start: (1989, 1, 8) },
    Era { name: "昭和", letter: 'S', first_year: 1926, start: (1926, 12, 25) },
    Era { name: "大正", letter: 'T', first_year: 1912, start: (1912, 7, 30) },
];

/// Reads 「令和 4年10月 1日」, 「令和元年 8月 1日」, 「平成18年 4月 1日」 (full- or half-width
/// digits, spaces anywhere), the abbreviated `R4.10.1` / `H18/4/1`, and the Gregorian
/// `2024-04-01`, `2024/4/1`, `2024年4月1日`. Anything else, an impossible day, or a date
/// before the era began, gives `None`. (Years past an era's end, such as 平成32年, are
/// accepted as the Gregorian year they count to: forms printed before an era change use them.)
pub fn parse_era_date(raw: &str) -> Option<Date> {
    let text: String = crate::fields::fold_ascii(raw).chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return None;
    }
    for &Era { name, letter, first_year, start: (y, m, d) } in ERAS {
        let rest = text
            .strip_prefix(name)
            .or_else(|| text.strip_prefix(letter))
            .or_else(|| text.strip_prefix(letter.to_ascii_lowercase()));
        let Some(rest) = rest else { continue };
        let (era_year, rest) = match rest.strip_prefix('元') {
            Some(rest) => (1, rest),
            None => number(rest)?,
        };
        if !(1..=99).contains(&era_year) {
            return None;
        }
        let date = month_day(first_year + era_year - 1, rest)?;
        let start = Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()?;
        return (date >= start).then_some(date);
    }
    let (year, rest) = number(&text)?;
    if !(1000..=9999).contains(&year) {
        return None;
    }
    month_day(year, rest)
}

/// After the year: a separator, month, separator, day, and an optional 日.
fn month_day(year: i32, rest: &str) -> Option<Date> {
    let rest = separator(rest)?;
    let (month, rest) = number(rest)?;
    let rest = separator(rest)?;
    let (day, rest) = number(rest)?;
    if !matches!(rest, "" | "日") {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

fn separator(text: &str) -> Option<&str> {
    let mut chars = text.chars();
    match chars.next()? {
        '年' | '月' | '.' | '/' | '-' => Some(chars.as_str()),
        _ => None,
    }
}

/// A run of 1–4 ASCII digits at the start.
fn number(text: &str) -> Option<(i32, &str)> {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    if end == 0 || end > 4 {
        return None;
    }
    Some((text[..end].parse().ok()?, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn reads_the_dates_of_the_kouseikyoku_lists() {
        assert_eq!(parse_era_date("令和 4年10月 1日"), Some(date!(2022 - 10 - 01)));
        assert_eq!(parse_era_date("令和元年 8月 1日"), Some(date!(2019 - 08 - 01)));
        assert_eq!(parse_era_date("平成18年 4月 1日"), Some(date!(2006 - 04 - 01)));
        assert_eq!(parse_era_date("平成元年 1月 8日"), Some(date!(1989 - 01 - 08)));
        assert_eq!(parse_era_date("昭和64年1月7日"), Some(date!(1989 - 01 - 07)));
        assert_eq!(parse_era_date("平成31年 4月30日"), Some(date!(2019 - 04 - 30)));
    }

    #[test]
    fn full_width_digits_and_spaces() {
        assert_eq!(parse_era_date("令和　４年１０月　１日"), Some(date!(2022 - 10 - 01)));
        assert_eq!(parse_era_date(" 令和７年 ４月 １日 "), Some(date!(2025 - 04 - 01)));
        assert_eq!(parse_era_date("２０２４／０４／０１"), Some(date!(2024 - 04 - 01)));
    }

    #[test]
    fn abbreviations_and_gregorian() {
        assert_eq!(parse_era_date("R4.10.1"), Some(date!(2022 - 10 - 01)));
        assert_eq!(parse_era_date("H18/4/1"), Some(date!(2006 - 04 - 01)));
        assert_eq!(parse_era_date("2024-04-01"), Some(date!(2024 - 04 - 01)));
        assert_eq!(parse_era_date("2024/04/01"), Some(date!(2024 - 04 - 01)));
        assert_eq!(parse_era_date("2024/4/1"), Some(date!(2024 - 04 - 01)));
        assert_eq!(parse_era_date("2024年4月1日"), Some(date!(2024 - 04 - 01)));
        assert_eq!(parse_era_date("平成32年4月1日"), Some(date!(2020 - 04 - 01)));
    }

    #[test]
    fn junk_is_refused() {
        for junk in [
            "",
            "   ",
            "令和",
            "令和x年1月1日",
            "令和0年1月1日",
            "令和4年13月1日",
            "令和4年2月30日",
            "令和元年4月1日", // before 令和 began (2019-05-01)
            "平成元年1月7日", // still 昭和
            "令和4年10月1日頃",
            "2024-02-30",
            "24-04-01",
            "2024/04",
            "20240401",
            "abc",
            "明治45年7月29日",
            "令和100年1月1日",
        ] {
            assert_eq!(parse_era_date(junk), None, "{junk:?}");
        }
    }
}
