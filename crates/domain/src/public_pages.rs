//! The public pages (item キ): the programme's figures by fiscal year, the
//! municipality's articles and its public events. What a citizen reads
//! without signing in. The figures come from the system's own data where it
//! covers the period, otherwise from what the municipality entered; counts
//! that come from patients are never shown when small.

use crate::{ValidationError, coded_enum, text};
use time::{Date, Month, OffsetDateTime, Time};

coded_enum!(
    /// A figure of the programme, per fiscal year.
    FigureMetric {
        SupportClinics = "home_care_support_clinics", "在宅療養支援診療所", "Home-care support clinics";
        SupportHospitals = "home_care_support_hospitals", "在宅療養支援病院", "Home-care support hospitals";
        NursingStations = "home_nursing_stations", "訪問看護ステーション", "Home nursing stations";
        HomeDeaths = "home_deaths", "在宅看取り", "Deaths at home";
    }
);

impl FigureMetric {
    /// Facility counts are taken on a day (the fiscal year's first); home
    /// deaths are counted over the year.
    pub fn is_count_over_year(self) -> bool {
        self == FigureMetric::HomeDeaths
    }

    /// Counts of people (not facilities): small ones are not published.
    pub fn is_about_people(self) -> bool {
        self == FigureMetric::HomeDeaths
    }
}

/// Below this, a count of people from the system's own data is shown as
/// "fewer than 5": a small town's yearly home deaths could point to a family.
pub const SMALLEST_PUBLISHED_COUNT: i64 = 5;

/// A Japanese fiscal year (年度): April to March, named by the year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The years the figures may name.
    pub const FIRST: i32 = 1990;
    pub const LAST: i32 = 2100;

    pub fn of(day: Date) -> Self {
        if day.month() >= Month::April { Self(day.year()) } else { Self(day.year() - 1) }
    }

    /// April 1st.
    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.0, Month::April, 1).unwrap_or(Date::MIN)
    }

    /// The next fiscal year's first day.
    pub fn end(self) -> Date {
        Self(self.0.saturating_add(1)).first_day()
    }

    /// "令和7年度" (the era of its first day), or "2025年度" before 平成.
    pub fn label_ja(self) -> String {
        match self.0 {
            y if y >= 2019 => format!("令和{}年度", era_year(y - 2018)),
            y if y >= 1989 => format!("平成{}年度", era_year(y - 1988)),
            y => format!("{y}年度"),
        }
    }

    pub fn label_en(self) -> String {
        format!("FY{}", self.0)
    }

    /// A fiscal year as typed: "2025", "２０２５", "令和7", "R7", "平成28", "H28".
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let folded = text::fold_full_width_ascii(raw.trim()).replace("年度", "").replace('年', "");
        let (offset, digits) = if let Some(rest) = folded.strip_prefix("令和").or(folded.strip_prefix('R')) {
            (2018, rest)
        } else if let Some(rest) = folded.strip_prefix("平成").or(folded.strip_prefix('H')) {
            (1988, rest)
        } else {
            (0, folded.as_str())
        };
        let digits = digits.trim();
        let n: i32 = if offset > 0 && digits == "元" {
            1
        } else {
            digits.parse().map_err(|_| ValidationError::new(field, "fiscal_year"))?
        };
        let year = n + offset;
        if offset > 0 && n < 1 || !(Self::FIRST..=Self::LAST).contains(&year) {
            return Err(ValidationError::new(field, "out_of_range"));
        }
        Ok(Self(year))
    }
}

fn era_year(n: i32) -> String {
    if n == 1 { "元".to_owned() } else { n.to_string() }
}

/// Midnight at the start of `day` in Japan.
pub fn start_of_day_jst(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_offset(crate::clock::JST)
}

/// When something was present: from a day, until a day (exclusive) or still.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence<K> {
    /// Whose presence (a facility): several spans of one key count once.
    pub key: K,
    pub from: Date,
    pub until: Option<Date>,
}

impl<K> Presence<K> {
    pub fn on(&self, day: Date) -> bool {
        self.from <= day && self.until.is_none_or(|u| u > day)
    }
}

/// How many distinct keys are present on `day`.
pub fn count_present_on<K: Ord + Copy>(spans: &[Presence<K>], day: Date) -> i64 {
    let mut keys: Vec<K> = spans.iter().filter(|s| s.on(day)).map(|s| s.key).collect();
    keys.sort_unstable();
    keys.dedup();
    i64::try_from(keys.len()).unwrap_or(i64::MAX)
}

/// How many of `days` fall in the fiscal year.
pub fn count_in_year(days: &[Date], year: FiscalYear) -> i64 {
    let n = days.iter().filter(|d| **d >= year.first_day() && **d < year.end()).count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureSource {
    /// Counted from the registry or the patients' outcomes in this system.
    Own,
    /// Entered by the municipality (its own statistics).
    Entered,
}

/// A figure as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Count(i64),
    /// A count of people below [`SMALLEST_PUBLISHED_COUNT`] (never zero: zero is shown).
    FewerThan(i64),
}

/// One cell of the figures table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub shown: Shown,
    pub source: FigureSource,
    /// The system's data covers only part of the period (the year is under
    /// way, or the system started during it).
    pub partial: bool,
}

/// What the system counted for a period, and whether it covered all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnCount {
    pub value: i64,
    pub complete: bool,
}

/// The figure to publish: the system's own count when it covers the whole
/// period, else the municipality's entry, else the system's partial count,
/// else nothing. Small counts of people from the system are withheld.
pub fn choose_figure(metric: FigureMetric, own: Option<OwnCount>, entered: Option<i64>) -> Option<Figure> {
    let (value, source, partial) = match (own, entered) {
        (Some(o), _) if o.complete => (o.value, FigureSource::Own, false),
        (_, Some(e)) => (e, FigureSource::Entered, false),
        (Some(o), None) => (o.value, FigureSource::Own, true),
        (None, None) => return None,
    };
    let withheld =
        metric.is_about_people() && source == FigureSource::Own && (1..SMALLEST_PUBLISHED_COUNT).contains(&value);
    let shown = if withheld { Shown::FewerThan(SMALLEST_PUBLISHED_COUNT) } else { Shown::Count(value) };
    Some(Figure { shown, source, partial })
}

/// A figure the municipality enters for a fiscal year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnteredFigure {
    pub metric: FigureMetric,
    pub year: FiscalYear,
    pub value: i64,
    /// Where the number comes from (e.g. 人口動態統計).
    pub note: Option<String>,
}

impl EnteredFigure {
    pub fn parse(metric: &str, year: &str, value: &str, note: &str) -> Result<Self, ValidationError> {
        let metric = FigureMetric::parse(metric.trim()).map_err(|_| ValidationError::new("metric", "unknown"))?;
        let year = FiscalYear::parse("year", year)?;
        let folded = text::fold_full_width_ascii(value.trim()).replace(',', "");
        if folded.is_empty() {
            return Err(ValidationError::new("value", "required"));
        }
        let value: i64 = folded.parse().map_err(|_| ValidationError::new("value", "number"))?;
        if !(0..=10_000_000).contains(&value) {
            return Err(ValidationError::new("value", "out_of_range"));
        }
        Ok(Self { metric, year, value, note: text::optional("note", note, 200)? })
    }
}

/// An article as written by the municipality: Markdown, rendered and
/// sanitised when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDraft {
    pub title: String,
    pub body: String,
    /// Shown to citizens (otherwise a draft only staff see).
    pub published: bool,
}

impl ArticleDraft {
    pub const MAX_TITLE: usize = 100;
    pub const MAX_BODY: usize = 20_000;

    pub fn parse(title: &str, body: &str, published: bool) -> Result<Self, ValidationError> {
        let title = text::required("title", title, Self::MAX_TITLE)?;
        let body =
            text::optional_multiline("body", body, Self::MAX_BODY)?.ok_or(ValidationError::new("body", "required"))?;
        Ok(Self { title, body, published })
    }
}

/// A public event (市民公開講座, 出前講座, 相談会, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicEventDraft {
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: Option<OffsetDateTime>,
    pub place: String,
    /// Markdown, like an article's body (how to apply, what to bring).
    pub description: Option<String>,
}

/// The event form's fields as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicEventForm<'a> {
    pub title: &'a str,
    pub date: &'a str,
    pub starts: &'a str,
    pub ends: &'a str,
    pub place: &'a str,
    pub description: &'a str,
}

impl PublicEventDraft {
    pub fn parse(form: &PublicEventForm<'_>) -> Result<Self, ValidationError> {
        let title = text::required("title", form.title, 100)?;
        let date = crate::patient::parse_date("date", form.date)?;
        let starts = parse_clock("starts", form.starts)?.ok_or(ValidationError::new("starts", "required"))?;
        let ends = parse_clock("ends", form.ends)?;
        if ends.is_some_and(|e| e <= starts) {
            return Err(ValidationError::new("ends", "before_start"));
        }
        // An instant that UTC cannot hold (the first hours of year -9999) is out of range.
        let at = |t: Time| {
            let at = date.with_time(t).assume_offset(crate::clock::JST);
            at.checked_to_offset(time::UtcOffset::UTC).map(|_| at).ok_or(ValidationError::new("date", "out_of_range"))
        };
        Ok(Self {
            title,
            starts_at: at(starts)?,
            ends_at: ends.map(at).transpose()?,
            place: text::required("place", form.place, 200)?,
            description: text::optional_multiline("description", form.description, 5_000)?,
        })
    }
}

/// "13:30" (full-width digits and "13時30分" too); empty is none.
fn parse_clock(field: &'static str, raw: &str) -> Result<Option<Time>, ValidationError> {
    let folded = text::fold_full_width_ascii(raw.trim()).replace('時', ":").replace('分', "").replace('：', ":");
    if folded.is_empty() {
        return Ok(None);
    }
    let (h, m) = folded.split_once(':').unwrap_or((folded.as_str(), "0"));
    let m = if m.is_empty() { "0" } else { m };
    let (h, m): (u8, u8) = match (h.trim().parse(), m.trim().parse()) {
        (Ok(h), Ok(m)) => (h, m),
        _ => return Err(ValidationError::new(field, "time")),
    };
    Time::from_hms(h, m, 0).map(Some).map_err(|_| ValidationError::new(field, "time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    #[test]
    fn fiscal_years_run_from_april_and_have_era_names() {
        assert_eq!(FiscalYear::of(date!(2026 - 03 - 31)), FiscalYear(2025));
        assert_eq!(FiscalYear::of(date!(2026 - 04 - 01)), FiscalYear(2026));
        assert_eq!(FiscalYear(2025).first_day(), date!(2025 - 04 - 01));
        assert_eq!(FiscalYear(2025).end(), date!(2026 - 04 - 01));
        assert_eq!(FiscalYear(2025).label_ja(), "令和7年度");
        assert_eq!(FiscalYear(2019).label_ja(), "令和元年度");
        assert_eq!(FiscalYear(2016).label_ja(), "平成28年度");
        assert_eq!(FiscalYear(1989).label_ja(), "平成元年度");
        for (typed, year) in [
            ("2025", 2025),
            ("２０２５年度", 2025),
            ("令和7", 2025),
            ("R7", 2025),
            ("平成28年度", 2016),
            ("H28", 2016),
            ("令和元", 2019),
        ] {
            assert_eq!(FiscalYear::parse("year", typed), Ok(FiscalYear(year)), "{typed}");
        }
        for typed in ["", "来年", "令和0", "1800", "R-1"] {
            assert!(FiscalYear::parse("year", typed).is_err(), "{typed}");
        }
    }

    #[test]
    fn presence_counts_each_facility_once_on_a_day() {
        let spans = [
            Presence { key: 1, from: date!(2016 - 04 - 01), until: None },
            // The same clinic changed its type: two spans, one clinic.
            Presence { key: 2, from: date!(2014 - 04 - 01), until: Some(date!(2018 - 04 - 01)) },
            Presence { key: 2, from: date!(2018 - 04 - 01), until: None },
            Presence { key: 3, from: date!(2015 - 04 - 01), until: Some(date!(2017 - 01 - 10)) },
        ];
        assert_eq!(count_present_on(&spans, date!(2016 - 03 - 31)), 2);
        assert_eq!(count_present_on(&spans, date!(2016 - 04 - 01)), 3);
        assert_eq!(count_present_on(&spans, date!(2017 - 01 - 10)), 2, "ended that day: gone");
        assert_eq!(count_present_on(&spans, date!(2018 - 04 - 01)), 2);
        assert_eq!(count_present_on(&spans, date!(2010 - 01 - 01)), 0);
        let deaths = [date!(2025 - 04 - 01), date!(2026 - 03 - 31), date!(2026 - 04 - 01), date!(2025 - 03 - 31)];
        assert_eq!(count_in_year(&deaths, FiscalYear(2025)), 2);
    }

    #[test]
    fn the_system_wins_where_it_covers_the_year_and_small_counts_of_people_are_withheld() {
        let own = |value, complete| Some(OwnCount { value, complete });
        let m = FigureMetric::SupportClinics;
        assert_eq!(
            choose_figure(m, own(12, true), Some(30)),
            Some(Figure { shown: Shown::Count(12), source: FigureSource::Own, partial: false })
        );
        assert_eq!(
            choose_figure(m, own(3, false), Some(30)),
            Some(Figure { shown: Shown::Count(30), source: FigureSource::Entered, partial: false })
        );
        assert_eq!(
            choose_figure(m, own(3, false), None),
            Some(Figure { shown: Shown::Count(3), source: FigureSource::Own, partial: true })
        );
        assert_eq!(choose_figure(m, None, None), None);
        let deaths = FigureMetric::HomeDeaths;
        assert_eq!(choose_figure(deaths, own(4, true), None).map(|f| f.shown), Some(Shown::FewerThan(5)));
        assert_eq!(choose_figure(deaths, own(0, true), None).map(|f| f.shown), Some(Shown::Count(0)));
        assert_eq!(choose_figure(deaths, own(5, true), None).map(|f| f.shown), Some(Shown::Count(5)));
        // The municipality's own statistics are published as it entered them.
        assert_eq!(choose_figure(deaths, None, Some(3)).map(|f| f.shown), Some(Shown::Count(3)));
        // Facilities are not people.
        assert_eq!(choose_figure(m, own(2, true), None).map(|f| f.shown), Some(Shown::Count(2)));
    }

    proptest! {
        #[test]
        fn no_small_count_of_people_from_the_system_is_ever_shown(value in 0i64..100, complete: bool, entered: Option<i64>) {
            let own = Some(OwnCount { value, complete });
            if let Some(f) = choose_figure(FigureMetric::HomeDeaths, own, entered)
                && f.source == FigureSource::Own
                && let Shown::Count(n) = f.shown
            {
                prop_assert!(n == 0 || n >= SMALLEST_PUBLISHED_COUNT);
            }
        }

        #[test]
        fn every_day_belongs_to_exactly_one_fiscal_year(days in 0i64..60_000) {
            let day = date!(1990 - 01 - 01) + time::Duration::days(days);
            let y = FiscalYear::of(day);
            prop_assert!(y.first_day() <= day && day < y.end());
        }
    }

    #[test]
    fn entered_figures_and_forms_are_checked() {
        assert_eq!(
            EnteredFigure::parse("home_deaths", "令和6", "１,２３４", " 人口動態統計 "),
            Ok(EnteredFigure {
                metric: FigureMetric::HomeDeaths,
                year: FiscalYear(2024),
                value: 1234,
                note: Some("人口動態統計".into())
            })
        );
        assert_eq!(EnteredFigure::parse("x", "2024", "1", "").err(), Some(ValidationError::new("metric", "unknown")));
        assert_eq!(
            EnteredFigure::parse("home_deaths", "2024", "-1", "").err(),
            Some(ValidationError::new("value", "out_of_range"))
        );
        assert_eq!(
            EnteredFigure::parse("home_deaths", "2024", "", "").err(),
            Some(ValidationError::new("value", "required"))
        );

        assert_eq!(ArticleDraft::parse(" ", "本文", true).err(), Some(ValidationError::new("title", "required")));
        assert_eq!(ArticleDraft::parse("題", "  ", true).err(), Some(ValidationError::new("body", "required")));
        assert!(ArticleDraft::parse("題", &"あ".repeat(20_001), true).is_err());

        let form = PublicEventForm {
            title: "在宅医療市民講座",
            date: "2026-12-12",
            starts: "１３時３０分",
            ends: "15:00",
            place: "柏市役所 本庁舎",
            description: "申込不要です。",
        };
        let e = PublicEventDraft::parse(&form);
        assert_eq!(e.as_ref().map(|e| e.starts_at), Ok(datetime!(2026-12-12 13:30 +9)));
        assert_eq!(e.as_ref().map(|e| e.ends_at), Ok(Some(datetime!(2026-12-12 15:00 +9))));
        let early = PublicEventForm { ends: "13:00", ..form };
        assert_eq!(PublicEventDraft::parse(&early).err(), Some(ValidationError::new("ends", "before_start")));
        let bad = PublicEventForm { starts: "25:00", ..form };
        assert_eq!(PublicEventDraft::parse(&bad).err(), Some(ValidationError::new("starts", "time")));
        let no_place = PublicEventForm { place: "", ..form };
        assert_eq!(PublicEventDraft::parse(&no_place).err(), Some(ValidationError::new("place", "required")));
        // The first hours of year -9999 in Japan are before anything UTC can hold: refused, no panic.
        let too_early = PublicEventForm { date: "-9999-01-01", starts: "01:00", ends: "", ..form };
        assert_eq!(PublicEventDraft::parse(&too_early).err(), Some(ValidationError::new("date", "out_of_range")));
        assert!(PublicEventDraft::parse(&PublicEventForm { date: "9999-12-31", ..form }).is_ok());
    }
}
