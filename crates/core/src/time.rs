//! Time as data: epoch milliseconds, never read from a clock in this crate.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// The earliest time a command may be given: 0001-01-01T00:00:00Z.
    pub const EARLIEST: Timestamp = Timestamp(-62_135_596_800_000);
    /// The latest time a command may be given: 9999-12-31T23:59:59.999Z, so
    /// that every time prints as RFC 3339 with a four-digit year.
    pub const LATEST: Timestamp = Timestamp(253_402_300_799_999);

    /// Whether the time lies in the years 1 to 9999, the times a command may be given.
    pub fn is_valid(self) -> bool {
        (Self::EARLIEST..=Self::LATEST).contains(&self)
    }

    /// The timestamp `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `d`, saturating at the ends of the range.
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_ms(d)))
    }

    /// This time minus `d`, saturating at the ends of the range.
    pub fn minus(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(duration_ms(d)))
    }

    /// The calendar date in UTC, as `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let days = self.0.div_euclid(DAY_MS);
        let (y, m, d) = civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.rem_euclid(DAY_MS);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            self.date(),
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    }
}

/// A duration in whole milliseconds, saturating at `i64::MAX`.
pub fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Days since the epoch to a proleptic Gregorian (year, month, day); Howard Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(Timestamp(0).date(), "1970-01-01");
        // 2026-10-03T12:00:00Z
        assert_eq!(Timestamp(1_791_028_800_000).date(), "2026-10-03");
        assert_eq!(Timestamp(-1).date(), "1969-12-31");
        assert_eq!(Timestamp(951_782_400_000).date(), "2000-02-29");
        assert_eq!(Timestamp(1_791_028_800_123).to_string(), "2026-10-03T12:00:00.123Z");
    }

    #[test]
    fn the_valid_range_is_the_years_1_to_9999() {
        assert_eq!(Timestamp::EARLIEST.to_string(), "0001-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::LATEST.to_string(), "9999-12-31T23:59:59.999Z");
        assert!(Timestamp::EARLIEST.is_valid() && Timestamp::LATEST.is_valid() && Timestamp(0).is_valid());
        assert!(!Timestamp(Timestamp::EARLIEST.0 - 1).is_valid());
        assert!(!Timestamp(Timestamp::LATEST.0 + 1).is_valid());
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Timestamp(i64::MAX).plus(Duration::from_secs(1)), Timestamp(i64::MAX));
        assert_eq!(Timestamp(i64::MIN).minus(Duration::from_secs(1)), Timestamp(i64::MIN));
    }
}
