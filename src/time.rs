//! Time: every CloudTrail time form and every `--since` / `--until` form, parsed in one place.
//!
//! Input: text (a record's `eventTime`, a SQL argument, a command-line time, a log file's or
//! digest's name). Output: UTC times, as microseconds or `chrono` values, and CloudTrail's own
//! text form back. Record times keep a flag saying whether formatting gives the same text again,
//! so that ingest can keep any other spelling losslessly.
//!
//! This module does not choose what a time means for a command (a bare `--until` date meaning
//! the end of that day is here, because every command means the same by it).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Parses an ISO-8601 time to UTC microseconds. The flag says whether [`format_time`] gives the
/// same text back (CloudTrail's own `YYYY-MM-DDTHH:MM:SSZ` form always does).
pub fn parse_time(s: &str) -> Option<(i64, bool)> {
    if let Some(t) = parse_cloudtrail_time(s.as_bytes()) {
        return Some((t, true));
    }
    let t = DateTime::parse_from_rfc3339(s).ok()?.timestamp_micros();
    Some((t, format_time(t) == s))
}

/// Formats UTC microseconds as CloudTrail does: seconds precision with `Z`, or microseconds
/// when there is a fraction.
pub fn format_time(micros: i64) -> String {
    match DateTime::from_timestamp_micros(micros) {
        Some(t) if micros % 1_000_000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => micros.to_string(),
    }
}

/// Fast path for exactly `YYYY-MM-DDTHH:MM:SSZ`, with full range checks.
fn parse_cloudtrail_time(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > dim[(mo - 1) as usize] || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + h * 3600 + mi * 60 + s) * 1_000_000)
}

/// A time as responders and SQL write it: ISO-8601 with or without an offset (a missing one means
/// UTC), `T` or space between date and time, or a bare date (its first instant).
pub fn parse_loose(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some((t, _)) = parse_time(s) {
        return Some(t);
    }
    let with_t = s.replacen(' ', "T", 1);
    if let Some((t, _)) = parse_time(&with_t) {
        return Some(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&with_t, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// An RFC 3339 time (a digest's `digestStartTime`, say) as a UTC time.
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc())
}

/// Parses a `--since`-style time: a date (its first instant, UTC), an RFC 3339 time, a UTC
/// `YYYY-MM-DDTHH:MM:SS`, or a span back from now (`90m`, `36h`, `7d`, `2w`).
pub fn parse_when(s: &str) -> Result<DateTime<Utc>, String> {
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(NaiveTime::MIN).and_utc());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| {
        format!("{s:?} is not a date (YYYY-MM-DD), an RFC 3339 time, or a span like 7d or 36h")
    })?;
    let span = match unit {
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        _ => {
            return Err(format!(
                "{s:?}: the span unit must be m, h, d or w (for example 36h)"
            ));
        }
    };
    Ok(Utc::now() - span)
}

/// `--until`: like `--since`, but a bare date means the end of that day.
pub fn parse_until(s: &str) -> Result<DateTime<Utc>, String> {
    let t = parse_when(s)?;
    if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
        return Ok(t + chrono::Duration::days(1));
    }
    Ok(t)
}

/// `--since` / `--until` of commands that choose whole days (ingest, verify): the day of any
/// [`parse_when`] form.
pub fn parse_day(s: &str) -> Result<NaiveDate, String> {
    parse_when(s).map(|t| t.date_naive())
}

/// When a log file was delivered, from its name (`…_20240305T1405Z_…`), to the minute.
pub fn delivery_time(key: &str) -> Option<DateTime<Utc>> {
    let name = key.rsplit(['/', '\\']).next()?;
    name.split('_').find_map(|p| {
        NaiveDateTime::parse_from_str(p, "%Y%m%dT%H%MZ")
            .ok()
            .map(|t| t.and_utc())
    })
}

/// The end of a digest's period from its name's `YYYYMMDDTHHMMSSZ`.
pub fn digest_end_time(end: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(end, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_until_dates_include_the_whole_day() {
        let since = parse_when("2024-03-05").unwrap();
        let until = parse_until("2024-03-05").unwrap();
        assert_eq!((until - since).num_hours(), 24);
        assert_eq!(
            parse_loose("2024-03-05 10:00"),
            parse_time("2024-03-05T10:00:00Z").map(|t| t.0)
        );
        assert!(parse_when("7y").is_err());
    }

    #[test]
    fn time_fast_path_matches_chrono() {
        for s in [
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00Z",
            "2023-07-19T21:14:20Z",
        ] {
            let fast = parse_cloudtrail_time(s.as_bytes()).unwrap();
            let slow = DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
            assert_eq!(fast, slow, "{s}");
            assert_eq!(format_time(fast), s);
        }
        assert!(parse_cloudtrail_time(b"2023-02-29T00:00:00Z").is_none());
        assert_eq!(
            parse_time("2020-09-14T00:44:23.000Z").map(|t| t.1),
            Some(false)
        );
        assert_eq!(
            parse_time("2020-09-14T00:44:23.5Z").map(|t| t.1),
            Some(false)
        );
        assert!(parse_time("yesterday").is_none());
    }
}
