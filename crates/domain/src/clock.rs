//! Time is a parameter: everything that needs "now" is handed a clock.

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    /// Now, in UTC, truncated to microseconds so it survives a round trip
    /// through either database unchanged (the audit hash depends on it).
    fn now(&self) -> OffsetDateTime;
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
