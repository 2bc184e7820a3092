//! Dates as archivists write them: ISO 8601 and the Extended Date/Time Format (EDTF, Library of
//! Congress) levels 0 and 1 — `2022-01-04`, `2022-01`, `2022-01-04T19:30+06:00`,
//! `2022-01-04/2022-01-05`, `2022-01?`, `2022-01~`, `201X`, `2022-21` (spring), `../2022`.
//!
//! Validation answers "is this a date a machine can read", and [`day_range`] gives the span of
//! days a value covers, so that a photo's EXIF date can be compared with it.

use chrono::NaiveDate;

/// The first and last day a date value may denote (inclusive), when it has any.
pub type DayRange = (NaiveDate, NaiveDate);

/// Why a value is not a valid EDTF level 0–1 date.
pub fn invalid_reason(value: &str) -> Option<String> {
    parse(value).err()
}

/// The span of days `value` covers, or `None` for an invalid or open-ended value.
pub fn day_range(value: &str) -> Option<DayRange> {
    parse(value).ok().flatten()
}

fn parse(value: &str) -> Result<Option<DayRange>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("the date is empty".into());
    }
    if v != value {
        return Err("the date has surrounding spaces".into());
    }
    if let Some((a, b)) = v.split_once('/') {
        let start = if a.is_empty() || a == ".." {
            None
        } else {
            Some(date_or_datetime(a)?)
        };
        let end = if b.is_empty() || b == ".." {
            None
        } else {
            Some(date_or_datetime(b)?)
        };
        if start.is_none() && end.is_none() {
            return Err("an interval needs at least one end".into());
        }
        if let (Some(Some((s, _))), Some(Some((_, e)))) = (start, end)
            && e < s
        {
            return Err(format!("the interval ends ({e}) before it starts ({s})"));
        }
        return Ok(match (start, end) {
            (Some(Some((s, _))), Some(Some((_, e)))) => Some((s, e)),
            _ => None,
        });
    }
    date_or_datetime(v)
}

fn date_or_datetime(v: &str) -> Result<Option<DayRange>, String> {
    match v.split_once('T') {
        Some((d, t)) => {
            let r = date(d, false)?;
            time(t)?;
            Ok(r)
        }
        None => date(v, true),
    }
}

/// `hh:mm[:ss[.fff]]` followed by `Z`, `±hh:mm`, `±hhmm`, `±hh` or nothing.
fn time(t: &str) -> Result<(), String> {
    if !t.is_ascii() {
        return Err(format!(
            "{} is not a time of day hh:mm or hh:mm:ss",
            crate::paths::quoted(t)
        ));
    }
    let (clock, zone) = match t.find(['Z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let num = |s: &str, max: u32| -> bool {
        s.len() == 2
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    let ok = match parts.as_slice() {
        [h, m] => num(h, 23) && num(m, 59),
        [h, m, s] => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
            num(h, 23)
                && num(m, 59)
                && num(whole, 60)
                && !frac.is_empty()
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    };
    if !ok {
        return Err(format!(
            "{} is not a time of day hh:mm or hh:mm:ss",
            crate::paths::quoted(clock)
        ));
    }
    if zone.is_empty() || zone == "Z" {
        return Ok(());
    }
    let z = &zone[1..];
    let zok = match z.len() {
        2 => num(z, 14),
        4 => num(&z[..2], 14) && num(&z[2..], 59),
        5 => z.as_bytes()[2] == b':' && num(&z[..2], 14) && num(&z[3..], 59),
        _ => false,
    };
    if zok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a time zone offset like +06:00",
            crate::paths::quoted(zone)
        ))
    }
}

/// A calendar date with EDTF level 1 extras: a trailing `?`, `~` or `%`, `X` for unspecified
/// digits, seasons 21–24, `Y`-prefixed long years. `qualifiers` allows the trailing mark.
fn date(d: &str, qualifiers: bool) -> Result<Option<DayRange>, String> {
    let mut s = d;
    if qualifiers {
        s = s.strip_suffix(['?', '~', '%']).unwrap_or(s);
    }
    if let Some(y) = s.strip_prefix('Y') {
        let digits = y.strip_prefix('-').unwrap_or(y);
        if digits.len() > 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        return Err(format!(
            "{}: a `Y` year needs more than four digits",
            crate::paths::quoted(d)
        ));
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let parts: Vec<&str> = body.split('-').collect();
    let is_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let has_x = |p: &str| p.bytes().any(|b| b == b'X');
    let digits_or_x = |p: &str| p.bytes().all(|b| b.is_ascii_digit() || b == b'X');
    let year = parts[0];
    if year.len() != 4 || !digits_or_x(year) {
        return Err(format!(
            "{}: the year must have four digits (YYYY)",
            crate::paths::quoted(d)
        ));
    }
    if parts.len() > 3
        || parts
            .iter()
            .skip(1)
            .any(|p| p.len() != 2 || !digits_or_x(p))
    {
        return Err(format!(
            "{} is not YYYY, YYYY-MM or YYYY-MM-DD",
            crate::paths::quoted(d)
        ));
    }
    if parts.iter().any(|p| has_x(p)) || neg {
        // Unspecified digits: check what is specified, and give no day range.
        if let Some(m) = parts.get(1).filter(|m| is_digits(m)) {
            let m: u32 = m.parse().unwrap_or(0);
            if !(1..=12).contains(&m) {
                return Err(format!(
                    "{}: month {m} does not exist",
                    crate::paths::quoted(d)
                ));
            }
        }
        return Ok(None);
    }
    let y: i32 = year
        .parse()
        .map_err(|_| format!("{}: bad year", crate::paths::quoted(d)))?;
    match parts.len() {
        1 => Ok(Some((ymd(y, 1, 1)?, ymd(y, 12, 31)?))),
        2 => {
            let m: u32 = parts[1].parse().unwrap_or(0);
            match m {
                1..=12 => {
                    let first = ymd(y, m, 1)?;
                    let last = if m == 12 {
                        ymd(y, 12, 31)?
                    } else {
                        ymd(y, m + 1, 1)?.pred_opt().expect("a day before")
                    };
                    Ok(Some((first, last)))
                }
                // Seasons (EDTF level 1): spring, summer, autumn, winter, hemisphere-neutral.
                21..=24 => Ok(Some((ymd(y, 1, 1)?, ymd(y, 12, 31)?))),
                _ => Err(format!(
                    "{}: month {m} does not exist",
                    crate::paths::quoted(d)
                )),
            }
        }
        _ => {
            let m: u32 = parts[1].parse().unwrap_or(0);
            let day: u32 = parts[2].parse().unwrap_or(0);
            let date = NaiveDate::from_ymd_opt(y, m, day).ok_or_else(|| {
                format!("{} is not a day of the calendar", crate::paths::quoted(d))
            })?;
            Ok(Some((date, date)))
        }
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| format!("{y:04}-{m:02}-{d:02} is not a day of the calendar"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_level_0_and_1() {
        for ok in [
            "2022",
            "2022-01",
            "2022-01-04",
            "2022-01-04T19:30+06:00",
            "2022-01-04T19:30:15Z",
            "2022-01-04T19:30:15.5+0600",
            "2022-01-04T19:30",
            "2022-01-04/2022-01-05",
            "2022-01?",
            "2022-01~",
            "2022-01-04%",
            "201X",
            "2022-XX",
            "2022-21",
            "../2022-01-05",
            "2022-01/..",
            "/2022",
            "Y170000002",
            "2024-02-29",
        ] {
            assert_eq!(invalid_reason(ok), None, "{ok}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            " 2022",
            "04.01.2022",
            "2022-13",
            "2022-02-30",
            "2023-02-29",
            "22-01-04",
            "2022-1-4",
            "2022-01-04T25:00",
            "2022-01-04T19:30+6",
            "2022-01-05/2022-01-04",
            "январь 2022",
            "../..",
            "Y2022",
            "2022-01-04T10:00+€1",
            "2022-01-04T10:00+1é1",
        ] {
            assert!(invalid_reason(bad).is_some(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn day_ranges() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            day_range("2022-01-04T19:30+06:00"),
            Some((d("2022-01-04"), d("2022-01-04")))
        );
        assert_eq!(
            day_range("2022-01"),
            Some((d("2022-01-01"), d("2022-01-31")))
        );
        assert_eq!(
            day_range("2022-02?"),
            Some((d("2022-02-01"), d("2022-02-28")))
        );
        assert_eq!(
            day_range("2022-01-04/2022-01-05"),
            Some((d("2022-01-04"), d("2022-01-05")))
        );
        assert_eq!(day_range("2022"), Some((d("2022-01-01"), d("2022-12-31"))));
        assert_eq!(day_range("201X"), None);
        assert_eq!(day_range("../2022"), None);
    }
}
