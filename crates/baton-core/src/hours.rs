//! Working hours (B7): per user, in the user's time zone. Outside them the user counts as
//! away for routing, whatever their manual switch says.
//!
//! Pure: the caller passes the instant to check; time zones come from the compiled-in
//! IANA database (`chrono-tz`), so no file is read.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::settings::FieldError;

/// Minutes since midnight; 1440 is the end of the day.
type Minute = u16;

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// When a user works: per weekday, a few `[start, end)` spans in their time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    time_zone: Tz,
    /// Monday first.
    days: [Vec<(Minute, Minute)>; 7],
}

impl WorkingHours {
    /// Builds working hours from a time zone name (`Europe/Rome`) and, per day name
    /// (`mon`..`sun`), spans as `("09:00", "17:30")`. A day not named is off. Errors
    /// name the field, relative to the working-hours object.
    pub fn parse<'a>(
        time_zone: &str,
        days: impl IntoIterator<Item = (&'a str, Vec<(String, String)>)>,
    ) -> Result<WorkingHours, FieldError> {
        let time_zone = Tz::from_str(time_zone).map_err(|_| {
            FieldError::new(
                "time_zone",
                format!("\"{time_zone}\" is not an IANA time zone (e.g. Europe/Rome)"),
            )
        })?;
        let mut parsed: [Vec<(Minute, Minute)>; 7] = Default::default();
        for (name, spans) in days {
            let Some(index) = DAYS.iter().position(|(day, _)| *day == name) else {
                return Err(FieldError::new(
                    format!("days.{name}"),
                    "days are mon, tue, wed, thu, fri, sat, sun",
                ));
            };
            for (i, (start, end)) in spans.iter().enumerate() {
                let field = format!("days.{name}[{i}]");
                let (start, end) = (minute(start, &field)?, minute(end, &field)?);
                if start >= end {
                    return Err(FieldError::new(field, "a span ends after it starts"));
                }
                parsed[index].push((start, end));
            }
            parsed[index].sort_unstable();
            if parsed[index].windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(FieldError::new(format!("days.{name}"), "spans overlap"));
            }
        }
        Ok(WorkingHours {
            time_zone,
            days: parsed,
        })
    }

    /// Whether `at` falls within the working hours.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.time_zone);
        let day = local.weekday().num_days_from_monday() as usize;
        let minute = (local.hour() * 60 + local.minute()) as Minute;
        self.days[day]
            .iter()
            .any(|(start, end)| *start <= minute && minute < *end)
    }

    pub fn time_zone(&self) -> &str {
        self.time_zone.name()
    }

    /// Per day name, the spans as `("HH:MM", "HH:MM")`, for storage and the API.
    pub fn days(&self) -> Vec<(&'static str, Vec<(String, String)>)> {
        DAYS.iter()
            .zip(&self.days)
            .filter(|(_, spans)| !spans.is_empty())
            .map(|((name, _), spans)| {
                let spans = spans
                    .iter()
                    .map(|(s, e)| (format_minute(*s), format_minute(*e)))
                    .collect();
                (*name, spans)
            })
            .collect()
    }
}

fn minute(text: &str, field: &str) -> Result<Minute, FieldError> {
    let bad = || FieldError::new(field, format!("\"{text}\" is not a time of day (HH:MM)"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (Minute, Minute) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn format_minute(minute: Minute) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rome_weekdays() -> WorkingHours {
        let nine_to_five = vec![("09:00".to_owned(), "17:00".to_owned())];
        WorkingHours::parse(
            "Europe/Rome",
            ["mon", "tue", "wed", "thu", "fri"].map(|d| (d, nine_to_five.clone())),
        )
        .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn hours_are_read_in_the_users_time_zone() {
        let hours = rome_weekdays();
        for (instant, expect) in [
            // Monday 2026-11-23: Rome is UTC+1 in November
            ("2026-11-23T07:59:00Z", false),
            ("2026-11-23T08:00:00Z", true),
            ("2026-11-23T15:59:00Z", true),
            ("2026-11-23T16:00:00Z", false),
            // Saturday
            ("2026-11-28T10:00:00Z", false),
            // summer time: UTC+2
            ("2026-07-06T07:00:00Z", true),
            ("2026-07-06T15:00:00Z", false),
        ] {
            assert_eq!(hours.contains(at(instant)), expect, "{instant}");
        }
    }

    #[test]
    fn bad_values_name_their_field() {
        let check = |tz: &str, day: &str, start: &str, end: &str, field: &str| {
            let err =
                WorkingHours::parse(tz, [(day, vec![(start.into(), end.into())])]).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        };
        check("Mars/Olympus", "mon", "09:00", "17:00", "time_zone");
        check("UTC", "monday", "09:00", "17:00", "days.monday");
        check("UTC", "mon", "9am", "17:00", "days.mon[0]");
        check("UTC", "mon", "17:00", "09:00", "days.mon[0]");
        check("UTC", "mon", "09:00", "24:01", "days.mon[0]");
        let overlap = WorkingHours::parse(
            "UTC",
            [(
                "mon",
                vec![
                    ("09:00".into(), "13:00".into()),
                    ("12:00".into(), "18:00".into()),
                ],
            )],
        );
        assert_eq!(overlap.unwrap_err().field, "days.mon");
    }

    #[test]
    fn round_trips_through_its_text_form() {
        let hours = WorkingHours::parse(
            "America/New_York",
            [("sun", vec![("00:00".into(), "24:00".into())])],
        )
        .unwrap();
        assert_eq!(hours.time_zone(), "America/New_York");
        assert_eq!(
            hours.days(),
            vec![("sun", vec![("00:00".into(), "24:00".into())])]
        );
    }
}
