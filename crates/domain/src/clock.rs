//! Time is a parameter: everything that needs "now" is handed a clock.
//!
//! This module is the only place that reads the machine's clocks (clippy.toml
//! disallows `now_utc`, `Instant::now` and `thread::sleep` everywhere else), so
//! that a test can stand time still and nothing waits on a thread by accident.

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    /// Now, in UTC, truncated to microseconds so it survives a round trip
    /// through either database unchanged (the audit hash depends on it).
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one wall-clock read
    fn now(&self) -> OffsetDateTime {
        to_micros(OffsetDateTime::now_utc())
    }
}

/// A monotonic instant, to measure how long something took or how old it is
/// (cache ages, rate-limit refills, request timings): never a time of day.
#[allow(clippy::disallowed_methods)] // the one monotonic-clock read
pub fn monotonic_now() -> std::time::Instant {
    std::time::Instant::now()
}

/// Truncates to whole microseconds (PostgreSQL's timestamp precision).
pub fn to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// Japan has no daylight saving time: Asia/Tokyo is always +09:00.
pub const JST: time::UtcOffset = time::macros::offset!(+9);

/// Formats a UTC instant for Japanese readers, e.g. `2026-11-25 21:19`.
pub fn format_jst(t: OffsetDateTime) -> String {
    let local = t.to_offset(JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn truncates_to_micros() {
        let t = datetime!(2026-11-25 12:00:00.123456789 UTC);
        assert_eq!(to_micros(t), datetime!(2026-11-25 12:00:00.123456 UTC));
    }

    #[test]
    fn formats_in_tokyo_time() {
        assert_eq!(format_jst(datetime!(2026-11-25 15:30:00 UTC)), "2026-11-26 00:30");
    }
}
