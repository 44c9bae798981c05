//! Reading times, on the wire and on the command line: RFC 3339
//! (`2026-01-01T09:30:00Z`, `2026-01-01T10:30+01:00`, or a bare date meaning
//! midnight UTC) or integer epoch milliseconds; and the system clock, which the
//! server and the command line read here and nowhere else.

use connreq_core::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, from the system clock (a clock before 1970 reads as the epoch).
pub fn now() -> Timestamp {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// The earliest time accepted: 0001-01-01T00:00:00Z (the core's range).
pub const EARLIEST: Timestamp = Timestamp::EARLIEST;
/// The latest time accepted: 9999-12-31T23:59:59.999Z.
pub const LATEST: Timestamp = Timestamp::LATEST;

/// Parses a time (`--at`, a body's `at`, a query's `due_before`): epoch milliseconds or RFC 3339, between years 1 and
/// 9999. The error says what was expected.
pub fn parse_at(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let at = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<i64>()
            .map(Timestamp)
            .map_err(|_| format!("{text:?} is too large for epoch milliseconds"))?
    } else {
        parse_rfc3339(t).ok_or_else(|| {
            format!("{text:?} is not a time: use RFC 3339 (2026-01-01T09:30:00Z) or epoch milliseconds")
        })?
    };
    if !at.is_valid() {
        return Err(format!("{text:?} is outside the years 1 to 9999"));
    }
    Ok(at)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A fixed-width run of ASCII digits.
fn number(s: &str, range: std::ops::Range<usize>) -> Option<u32> {
    let part = s.get(range)?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    if !s.is_ascii() || s.len() < 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (i64::from(number(s, 0..4)?), number(s, 5..7)?, number(s, 8..10)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(Timestamp(ms));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (h, mi) = (number(rest, 0..2)?, number(rest, 3..5)?);
    if rest.as_bytes().get(2) != Some(&b':') || h > 23 || mi > 59 {
        return None;
    }
    let mut rest = &rest[5..];
    let mut sec = 0;
    if let Some(r) = rest.strip_prefix(':') {
        sec = number(r, 0..2)?;
        if sec > 60 {
            return None;
        }
        rest = &r[2..];
    }
    let mut frac_ms = 0i64;
    if let Some(r) = rest.strip_prefix(['.', ',']) {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &r[..n.min(3)]);
        frac_ms = padded.parse().ok()?;
        rest = &r[n..];
    }
    let offset_min: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (oh, om) = (number(rest, 1..3)?, number(rest, 4..6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * i64::from(oh * 60 + om)
        }
    };
    ms += i64::from(h) * 3_600_000 + i64::from(mi) * 60_000 + i64::from(sec.min(59)) * 1000 + frac_ms;
    Some(Timestamp(ms - offset_min * 60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_epoch_millis() {
        assert_eq!(parse_at("2026-01-01T00:00:00Z"), Ok(Timestamp(1_767_225_600_000)));
        assert_eq!(parse_at("2026-01-01T00:00Z"), Ok(Timestamp(1_767_225_600_000)));
        assert_eq!(parse_at("2026-01-01"), Ok(Timestamp(1_767_225_600_000)));
        assert_eq!(parse_at("2026-01-01T01:00:00.5+01:00"), Ok(Timestamp(1_767_225_600_500)));
        assert_eq!(parse_at("1767225600000"), Ok(Timestamp(1_767_225_600_000)));
        assert_eq!(parse_at("-5"), Ok(Timestamp(-5)));
        assert_eq!(
            parse_at("2000-02-29T12:00:00Z").map(|t| t.to_string()).unwrap(),
            "2000-02-29T12:00:00.000Z"
        );
        assert_eq!(parse_at("9999-12-31T23:59:59.999Z"), Ok(LATEST));
        assert_eq!(parse_at("0001-01-01T00:00:00Z"), Ok(EARLIEST));
        let round = Timestamp(1_791_028_800_123);
        assert_eq!(parse_at(&round.to_string()), Ok(round));
    }

    #[test]
    fn nonsense_is_an_error_not_a_panic() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-01-01T24:00Z",
            "2026-01-01T10:00",
            "2026-01-01T10:00+1",
            "99999999999999999999",
            "2026-01-01T10:00:00.Z",
            "2026-01-01Té",
            "-",
            "9223372036854775807",
            "253402300800000",
            "-62135596800001",
        ] {
            assert!(parse_at(bad).is_err(), "{bad:?}");
        }
    }
}
