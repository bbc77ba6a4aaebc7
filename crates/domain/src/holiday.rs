//! Japanese public holidays (国民の祝日・休日), for on-call rosters: nights,
//! weekends and holidays are when the backup system matters most.
//!
//! The rules of the 国民の祝日に関する法律 as they stood in each year from 2000
//! to 2099: fixed days, the "Happy Monday" days, the equinoxes (by the
//! astronomical approximation the Cabinet Office's announcements follow in this
//! range), the one-off changes of 2019–2021, substitute holidays (振替休日)
//! and citizens' holidays (国民の休日) between two holidays.

use time::{Date, Month, Weekday};

/// The years this module knows the law for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// Why a day is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    /// A 国民の祝日, with its name.
    National(&'static str),
    /// 振替休日: the first working day after a holiday that fell on a Sunday.
    Substitute,
    /// 国民の休日: a day between two national holidays.
    Citizens,
}

impl Holiday {
    pub fn name_ja(self) -> &'static str {
        match self {
            Holiday::National(name) => name,
            Holiday::Substitute => "振替休日",
            Holiday::Citizens => "国民の休日",
        }
    }
}

/// The holiday on `date`, if any; `None` also outside [`YEARS`].
pub fn holiday(date: Date) -> Option<Holiday> {
    if !YEARS.contains(&date.year()) {
        return None;
    }
    if let Some(name) = national(date) {
        return Some(Holiday::National(name));
    }
    if is_substitute(date) {
        return Some(Holiday::Substitute);
    }
    // Between two national holidays (only ever a Tuesday–Saturday in practice).
    let (before, after) = (date.previous_day(), date.next_day());
    if date.weekday() != Weekday::Sunday && before.and_then(national).is_some() && after.and_then(national).is_some() {
        return Some(Holiday::Citizens);
    }
    None
}

/// Whether `date` is a Saturday, a Sunday or a holiday (the roster's "off" days).
pub fn is_day_off(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) || holiday(date).is_some()
}

/// Every holiday of a year, in order.
pub fn holidays_of(year: i32) -> Vec<(Date, Holiday)> {
    let Ok(mut day) = Date::from_calendar_date(year, Month::January, 1) else { return Vec::new() };
    let mut out = Vec::new();
    while day.year() == year {
        if let Some(h) = holiday(day) {
            out.push((day, h));
        }
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// 振替休日 (since 2007): a national holiday on a Sunday moves the day off to
/// the next day that is not itself a national holiday.
fn is_substitute(date: Date) -> bool {
    if national(date).is_some() {
        return false;
    }
    let mut day = date;
    loop {
        let Some(before) = day.previous_day() else { return false };
        if national(before).is_none() {
            return false;
        }
        if before.weekday() == Weekday::Sunday {
            return true;
        }
        day = before;
    }
}

/// The `n`th `weekday` of a month (Happy Monday days).
fn nth_weekday(year: i32, month: Month, n: u8, weekday: Weekday) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 + weekday.number_days_from_monday() - first.weekday().number_days_from_monday()) % 7;
    Date::from_calendar_date(year, month, 1 + offset + 7 * (n - 1)).ok()
}

/// Day of March (vernal) or September (autumnal) of the equinox, 1980–2099.
fn equinox_day(year: i32, base: f64) -> u8 {
    let y = f64::from(year - 1980);
    let day = (base + 0.242194 * y - (y / 4.0).floor()).floor();
    // The formula gives 19..=24 in this range.
    day as u8
}

/// The national holiday (祝日) on `date`, by the law in force that year.
fn national(date: Date) -> Option<&'static str> {
    let (year, month, day) = (date.year(), date.month(), date.day());
    let monday = |m: Month, n: u8| nth_weekday(year, m, n, Weekday::Monday) == Some(date);
    let name = match (month, day) {
        (Month::January, 1) => "元日",
        (Month::January, _) if monday(Month::January, 2) => "成人の日",
        (Month::February, 11) => "建国記念の日",
        (Month::February, 23) if year >= 2020 => "天皇誕生日",
        (Month::March, d) if d == equinox_day(year, 20.8431) => "春分の日",
        (Month::April, 29) if year >= 2007 => "昭和の日",
        (Month::April, 29) => "みどりの日",
        (Month::May, 1) if year == 2019 => "天皇の即位の日",
        (Month::May, 3) => "憲法記念日",
        (Month::May, 4) if year >= 2007 => "みどりの日",
        (Month::May, 5) => "こどもの日",
        (Month::July, 20) if year <= 2002 => "海の日",
        (Month::July, 23) if year == 2020 => "海の日",
        (Month::July, 22) if year == 2021 => "海の日",
        (Month::July, _) if year >= 2003 && year != 2020 && year != 2021 && monday(Month::July, 3) => "海の日",
        (Month::July, 24) if year == 2020 => "スポーツの日",
        (Month::July, 23) if year == 2021 => "スポーツの日",
        (Month::August, 10) if year == 2020 => "山の日",
        (Month::August, 8) if year == 2021 => "山の日",
        (Month::August, 11) if year >= 2016 && year != 2020 && year != 2021 => "山の日",
        (Month::September, 15) if year <= 2002 => "敬老の日",
        (Month::September, _) if year >= 2003 && monday(Month::September, 3) => "敬老の日",
        (Month::September, d) if d == equinox_day(year, 23.2488) => "秋分の日",
        (Month::October, _) if year <= 2019 && monday(Month::October, 2) => "体育の日",
        (Month::October, _) if year >= 2022 && monday(Month::October, 2) => "スポーツの日",
        (Month::October, 22) if year == 2019 => "即位礼正殿の儀",
        (Month::November, 3) => "文化の日",
        (Month::November, 23) => "勤労感謝の日",
        (Month::December, 23) if (1989..=2018).contains(&year) => "天皇誕生日",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn listed(year: i32) -> Vec<String> {
        holidays_of(year).into_iter().map(|(d, h)| format!("{} {}", d, h.name_ja())).collect()
    }

    #[test]
    fn the_cabinet_office_list_for_2024() {
        assert_eq!(
            listed(2024),
            [
                "2024-01-01 元日",
                "2024-01-08 成人の日",
                "2024-02-11 建国記念の日",
                "2024-02-12 振替休日",
                "2024-02-23 天皇誕生日",
                "2024-03-20 春分の日",
                "2024-04-29 昭和の日",
                "2024-05-03 憲法記念日",
                "2024-05-04 みどりの日",
                "2024-05-05 こどもの日",
                "2024-05-06 振替休日",
                "2024-07-15 海の日",
                "2024-08-11 山の日",
                "2024-08-12 振替休日",
                "2024-09-16 敬老の日",
                "2024-09-22 秋分の日",
                "2024-09-23 振替休日",
                "2024-10-14 スポーツの日",
                "2024-11-03 文化の日",
                "2024-11-04 振替休日",
                "2024-11-23 勤労感謝の日",
            ]
        );
    }

    #[test]
    fn the_cabinet_office_list_for_2026_with_a_citizens_holiday() {
        assert_eq!(
            listed(2026),
            [
                "2026-01-01 元日",
                "2026-01-12 成人の日",
                "2026-02-11 建国記念の日",
                "2026-02-23 天皇誕生日",
                "2026-03-20 春分の日",
                "2026-04-29 昭和の日",
                "2026-05-03 憲法記念日",
                "2026-05-04 みどりの日",
                "2026-05-05 こどもの日",
                "2026-05-06 振替休日",
                "2026-07-20 海の日",
                "2026-08-11 山の日",
                "2026-09-21 敬老の日",
                "2026-09-22 国民の休日",
                "2026-09-23 秋分の日",
                "2026-10-12 スポーツの日",
                "2026-11-03 文化の日",
                "2026-11-23 勤労感謝の日",
            ]
        );
    }

    #[test]
    fn the_accession_year_and_the_olympic_years() {
        let h = |d| holiday(d).map(Holiday::name_ja);
        assert_eq!(h(date!(2019 - 04 - 30)), Some("国民の休日"));
        assert_eq!(h(date!(2019 - 05 - 01)), Some("天皇の即位の日"));
        assert_eq!(h(date!(2019 - 05 - 02)), Some("国民の休日"));
        assert_eq!(h(date!(2019 - 05 - 06)), Some("振替休日"));
        assert_eq!(h(date!(2019 - 10 - 22)), Some("即位礼正殿の儀"));
        assert_eq!(h(date!(2019 - 12 - 23)), None, "no emperor's birthday in 2019");
        assert_eq!(h(date!(2019 - 10 - 14)), Some("体育の日"));
        assert_eq!(h(date!(2020 - 07 - 23)), Some("海の日"));
        assert_eq!(h(date!(2020 - 07 - 24)), Some("スポーツの日"));
        assert_eq!(h(date!(2020 - 07 - 20)), None);
        assert_eq!(h(date!(2020 - 08 - 10)), Some("山の日"));
        assert_eq!(h(date!(2020 - 10 - 12)), None, "moved to July that year");
        assert_eq!(h(date!(2021 - 08 - 08)), Some("山の日"));
        assert_eq!(h(date!(2021 - 08 - 09)), Some("振替休日"));
        assert_eq!(h(date!(2018 - 12 - 24)), Some("振替休日"));
        assert_eq!(h(date!(2009 - 09 - 22)), Some("国民の休日"));
        assert_eq!(h(date!(2030 - 03 - 20)), Some("春分の日"));
        assert_eq!(h(date!(2032 - 09 - 20)), Some("敬老の日"));
        assert_eq!(h(date!(2032 - 09 - 21)), Some("国民の休日"));
        assert_eq!(h(date!(2032 - 09 - 22)), Some("秋分の日"));
        assert_eq!(holiday(date!(1999 - 01 - 01)), None, "outside the years this module knows");
    }

    #[test]
    fn days_off_are_weekends_and_holidays() {
        assert!(is_day_off(date!(2026 - 11 - 28)), "a Saturday");
        assert!(is_day_off(date!(2026 - 11 - 23)), "勤労感謝の日, a Monday");
        assert!(!is_day_off(date!(2026 - 11 - 25)), "an ordinary Wednesday");
    }

    proptest! {
        #[test]
        fn every_year_has_its_holidays_and_substitutes_follow_sundays(year in 2000i32..=2099) {
            let all = holidays_of(year);
            let national = all.iter().filter(|(_, h)| matches!(h, Holiday::National(_))).count();
            prop_assert!((14..=18).contains(&national), "{year}: {national}");
            for (day, h) in &all {
                if *h == Holiday::Substitute {
                    let mut before = day.previous_day().unwrap();
                    while national_name(before).is_some() && before.weekday() != Weekday::Sunday {
                        before = before.previous_day().unwrap();
                    }
                    prop_assert_eq!(before.weekday(), Weekday::Sunday, "{} follows no Sunday holiday", day);
                    prop_assert!(day.weekday() != Weekday::Sunday);
                }
            }
            // Every Sunday holiday has its substitute within the next three days.
            for (day, h) in &all {
                if matches!(h, Holiday::National(_)) && day.weekday() == Weekday::Sunday {
                    let next = (1..=3).filter_map(|n| day.checked_add(time::Duration::days(n))).any(|d| holiday(d) == Some(Holiday::Substitute));
                    prop_assert!(next, "{} has no substitute", day);
                }
            }
        }
    }

    fn national_name(d: Date) -> Option<&'static str> {
        national(d)
    }
}
