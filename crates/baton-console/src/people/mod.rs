//! Users, teams, inboxes and help desks (F6, B9): the pages of the staff API's
//! `/api/v1/users`, `/teams` and `/inboxes`, calling the same store and engine methods
//! and the same rules (`baton_core::people`, `baton_core::hours`).

mod inboxes;
mod teams;
mod user;
mod users;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::hours::WorkingHours;
use baton_core::ids::UserId;
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::FieldError;
use baton_engine::model::User;
use chrono::{DateTime, Utc};

use crate::Console;
use crate::page::{error_page, render};

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .merge(users::routes())
        .merge(user::routes())
        .merge(teams::routes())
        .merge(inboxes::routes())
}

/// The field errors of a form, keyed by the form field they are shown next to.
#[derive(Debug, Default, Clone)]
pub(crate) struct Errors(Vec<(String, String)>);

impl Errors {
    /// The errors of a form that a single one refused.
    pub(crate) fn one(field: &str, message: &str) -> Self {
        let mut errors = Errors::default();
        errors.add(field, message);
        errors
    }

    /// Adds `message` (a phrase from core or the store) as a sentence under `field`;
    /// the first error of a field wins.
    pub(crate) fn add(&mut self, field: &str, message: &str) {
        if !self.has(field) {
            self.0.push((field.to_owned(), sentence(message)));
        }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// "between 1 and 200 characters" → "Between 1 and 200 characters."
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut text: String = first.to_uppercase().chain(chars).collect();
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// Collects a rule's verdict: the value, or its error under `field`.
fn check<T>(errors: &mut Errors, field: &str, result: Result<T, FieldError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            errors.add(field, &error.message);
            None
        }
    }
}

/// The user id in a page's path; anything else is a page that does not exist
/// ([`no_page`]).
fn user_id(raw: &str) -> Option<UserId> {
    raw.parse::<i64>().ok().map(UserId)
}

fn no_page() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is no page at this address.")
}

/// A page with `status`, or the page that says why it could not be built.
fn respond(status: StatusCode, page: Result<impl Template, Response>) -> Response {
    match page {
        Ok(page) => render(status, &page),
        Err(response) => response,
    }
}

pub(crate) const SEATS: [Seat; 3] = [Seat::None, Seat::Sales, Seat::Service];
pub(crate) const PERMISSIONS: [Permission; 2] =
    [Permission::Admin, Permission::CustomerAgentEditor];

pub(crate) fn seat_label(seat: Seat) -> &'static str {
    match seat {
        Seat::None => "None",
        Seat::Sales => "Sales",
        Seat::Service => "Service",
    }
}

pub(crate) fn permission_label(permission: Permission) -> &'static str {
    match permission {
        Permission::Admin => "Admin",
        Permission::CustomerAgentEditor => "Customer agent editor",
    }
}

pub(crate) fn permissions_text(permissions: &[Permission]) -> String {
    if permissions.is_empty() {
        return "None".to_owned();
    }
    let mut permissions = permissions.to_vec();
    permissions.sort();
    permissions.dedup();
    permissions
        .iter()
        .map(|p| permission_label(*p))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn availability_label(availability: Availability) -> &'static str {
    match availability {
        Availability::Available => "Available",
        Availability::Away => "Away",
    }
}

/// The days of the working-hours form, in the names `WorkingHours::parse` takes.
pub(crate) const DAYS: [(&str, &str, &str); 7] = [
    ("mon", "Mon", "Monday"),
    ("tue", "Tue", "Tuesday"),
    ("wed", "Wed", "Wednesday"),
    ("thu", "Thu", "Thursday"),
    ("fri", "Fri", "Friday"),
    ("sat", "Sat", "Saturday"),
    ("sun", "Sun", "Sunday"),
];

/// Spans as a person types them: `09:00-12:30, 13:30-17:00`.
pub(crate) fn spans_text(spans: &[(String, String)]) -> String {
    spans
        .iter()
        .map(|(start, end)| format!("{start}-{end}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line for a table: `Europe/Rome: Mon–Fri 09:00-17:00; Sat 09:00-12:00`, days
/// with the same spans in a row grouped.
pub(crate) fn hours_summary(hours: Option<&WorkingHours>) -> String {
    let Some(hours) = hours else {
        return "Not set".to_owned();
    };
    let days = hours.days();
    if days.is_empty() {
        return format!("{}: no working days", hours.time_zone());
    }
    let index = |day: &str| DAYS.iter().position(|(key, _, _)| *key == day).unwrap_or(0);
    // (first day, last day, spans) runs of consecutive days with equal spans.
    let mut runs: Vec<(usize, usize, String)> = Vec::new();
    for (day, spans) in &days {
        let (i, text) = (index(day), spans_text(spans));
        match runs.last_mut() {
            Some((_, last, same)) if *last + 1 == i && *same == text => *last = i,
            _ => runs.push((i, i, text)),
        }
    }
    let runs: Vec<String> = runs
        .into_iter()
        .map(|(first, last, text)| {
            if first == last {
                format!("{} {text}", DAYS[first].1)
            } else {
                format!("{}–{} {text}", DAYS[first].1, DAYS[last].1)
            }
        })
        .collect();
    format!("{}: {}", hours.time_zone(), runs.join("; "))
}

/// A user as the tables and pages show them.
#[derive(Debug, Clone)]
pub(crate) struct UserView {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) seat: &'static str,
    pub(crate) paid_seat: bool,
    pub(crate) permissions: String,
    pub(crate) capacity: u32,
    pub(crate) availability: &'static str,
    pub(crate) available: bool,
    /// Working hours are set and `now` is outside them: away for routing.
    pub(crate) outside_hours: bool,
    pub(crate) open_conversations: u32,
    pub(crate) hours: String,
}

impl UserView {
    pub(crate) fn new(user: &User, now: DateTime<Utc>) -> Self {
        UserView {
            id: user.id.0,
            name: user.name.clone(),
            email: user.email.clone(),
            seat: seat_label(user.seat),
            paid_seat: user.seat.is_paid(),
            permissions: permissions_text(&user.permissions),
            capacity: user.capacity,
            availability: availability_label(user.availability),
            available: user.availability == Availability::Available,
            outside_hours: user
                .working_hours
                .as_ref()
                .is_some_and(|hours| !hours.contains(now)),
            open_conversations: user.open_conversations,
            hours: hours_summary(user.working_hours.as_ref()),
        }
    }
}

/// An option of a select, or a checkbox or radio button.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

impl Choice {
    pub(crate) fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

/// The seat select, `current` selected.
pub(crate) fn seat_choices(current: &str) -> Vec<Choice> {
    SEATS
        .iter()
        .map(|s| Choice::new(s.as_str(), seat_label(*s), s.as_str() == current))
        .collect()
}

/// The permission checkboxes, those named in `checked` checked.
pub(crate) fn permission_choices(checked: &[String]) -> Vec<Choice> {
    PERMISSIONS
        .iter()
        .map(|p| {
            Choice::new(
                p.as_str(),
                permission_label(*p),
                checked.iter().any(|c| c == p.as_str()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_group_days_with_the_same_spans() {
        let nine = vec![("09:00".to_owned(), "17:00".to_owned())];
        let hours = WorkingHours::parse(
            "Europe/Rome",
            [
                ("mon", nine.clone()),
                ("tue", nine.clone()),
                ("wed", nine.clone()),
                ("fri", nine.clone()),
                ("sat", vec![("09:00".into(), "12:00".into())]),
            ],
        )
        .unwrap();
        assert_eq!(
            hours_summary(Some(&hours)),
            "Europe/Rome: Mon–Wed 09:00-17:00; Fri 09:00-17:00; Sat 09:00-12:00"
        );
        assert_eq!(hours_summary(None), "Not set");
    }

    #[test]
    fn errors_read_as_sentences() {
        let mut errors = Errors::default();
        errors.add("name", "between 1 and 200 characters");
        errors.add("name", "second");
        assert_eq!(errors.get("name"), Some("Between 1 and 200 characters."));
        assert_eq!(errors.get("seat"), None);
    }
}
