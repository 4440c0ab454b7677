//! `/console/users/{id}`: one user, with a small form per change — each the page of one
//! staff API call (or store method): name, seat and permissions (`update_user`),
//! capacity, availability, working hours, a set-password link and an API token.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use baton_auth::session;
use baton_core::hours::WorkingHours;
use baton_core::ids::UserId;
use baton_core::people::{
    Availability, MAX_CAPACITY, check_name, parse_availability, parse_permissions, parse_seat,
};
use baton_core::settings::FieldError;
use baton_engine::StoreError;
use baton_engine::model::{User, UserChanges};
use baton_http::{hash_token, new_token};
use chrono::Utc;

use super::users::{capacity_from_form, form_field};
use super::{
    Choice, DAYS, Errors, UserView, availability_label, check, no_page, permission_choices,
    seat_choices, spans_text, user_id,
};
use crate::Console;
use crate::form::Form;
use crate::page::{
    Layout, Notice, Section, SignedIn, error_page, render, see_other, store_error_page,
};

/// How long a set-password link made here works.
const LINK_HOURS: i64 = 72;

pub(super) fn routes() -> Router<Console> {
    Router::new()
        .route("/console/users/{id}", get(user_page))
        .route("/console/users/{id}/profile", post(save_profile))
        .route("/console/users/{id}/capacity", post(save_capacity))
        .route("/console/users/{id}/availability", post(save_availability))
        .route("/console/users/{id}/working-hours", post(save_hours))
        .route("/console/users/{id}/password-link", post(create_link))
        .route("/console/users/{id}/tokens", post(create_token))
}

/// One day's box of the working-hours form.
#[derive(Debug, Clone)]
struct DayField {
    key: &'static str,
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    layout: Layout,
    user: UserView,
    is_self: bool,
    /// The viewer is an admin: name, seat, permissions, capacity, set-password links.
    admin: bool,
    /// The viewer is this user or an admin: availability, working hours, API tokens.
    may_edit: bool,
    /// Whether the user has set a password (shown to admins).
    has_password: Option<bool>,
    name: String,
    seats: Vec<Choice>,
    permissions: Vec<Choice>,
    capacity: String,
    max_capacity: u32,
    availabilities: Vec<Choice>,
    zones: Vec<Choice>,
    days: Vec<DayField>,
    errors: Errors,
    /// The section of a refused form (its heading's id and text), linked from the top.
    refused_in: Option<(&'static str, &'static str)>,
    /// A set-password link or an API token just made: shown once.
    link: Option<String>,
    token: Option<String>,
}

impl UserPage {
    /// The page with every form holding the user's current values.
    fn new(who: &SignedIn, user: &User) -> Self {
        let is_self = who.user.id == user.id;
        let admin = who.is_admin();
        let hours = user.working_hours.as_ref();
        let days = hours.map(WorkingHours::days).unwrap_or_default();
        UserPage {
            layout: Layout::new(user.name.clone(), Section::Users, who),
            user: UserView::new(user, Utc::now()),
            is_self,
            admin,
            may_edit: admin || is_self,
            has_password: None,
            name: user.name.clone(),
            seats: seat_choices(user.seat.as_str()),
            permissions: permission_choices(
                &user
                    .permissions
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect::<Vec<_>>(),
            ),
            capacity: user.capacity.to_string(),
            max_capacity: MAX_CAPACITY,
            availabilities: availability_choices(user.availability.as_str()),
            zones: zone_choices(hours.map(WorkingHours::time_zone).unwrap_or_default()),
            days: DAYS
                .iter()
                .map(|(key, _, label)| DayField {
                    key,
                    label,
                    value: days
                        .iter()
                        .find(|(day, _)| day == key)
                        .map(|(_, spans)| spans_text(spans))
                        .unwrap_or_default(),
                })
                .collect(),
            errors: Errors::default(),
            refused_in: None,
            link: None,
            token: None,
        }
    }
}

fn availability_choices(current: &str) -> Vec<Choice> {
    [Availability::Available, Availability::Away]
        .iter()
        .map(|a| Choice::new(a.as_str(), availability_label(*a), a.as_str() == current))
        .collect()
}

/// "No working hours", then every IANA time zone the server knows.
fn zone_choices(current: &str) -> Vec<Choice> {
    std::iter::once(Choice::new("", "No working hours", current.is_empty()))
        .chain(
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|tz| Choice::new(tz.name(), tz.name(), tz.name() == current)),
        )
        .collect()
}

/// The page of user `id` with their current values.
async fn load(console: &Console, who: &SignedIn, id: UserId) -> Result<UserPage, Response> {
    let store = console.engine().store();
    let user = store.user(id).await.map_err(store_error_page)?;
    let mut page = UserPage::new(who, &user);
    if page.admin {
        // Emails may repeat: only this user's own credentials say anything.
        page.has_password = store
            .user_credentials(&user.email)
            .await
            .map_err(store_error_page)?
            .filter(|c| c.user.id == user.id)
            .map(|c| c.password_hash.is_some());
    }
    Ok(page)
}

/// The page of user `id` as `change` leaves it, with `status`.
async fn show(
    console: &Console,
    who: &SignedIn,
    id: UserId,
    status: StatusCode,
    change: impl FnOnce(&mut UserPage),
) -> Response {
    match load(console, who, id).await {
        Ok(mut page) => {
            change(&mut page);
            render(status, &page)
        }
        Err(response) => response,
    }
}

/// The page of `id` after a refused form: the typed values `fill` puts back, the errors.
async fn refused(
    console: &Console,
    who: &SignedIn,
    id: UserId,
    errors: Errors,
    fill: impl FnOnce(&mut UserPage),
) -> Response {
    show(console, who, id, StatusCode::UNPROCESSABLE_ENTITY, |page| {
        fill(page);
        page.refused_in = Some(section_of(&errors));
        page.errors = errors;
    })
    .await
}

/// The section whose form a refusal is about.
fn section_of(errors: &Errors) -> (&'static str, &'static str) {
    if ["name", "seat", "permissions"]
        .iter()
        .any(|f| errors.has(f))
    {
        ("h-profile", "Name, seat and permissions")
    } else if errors.has("capacity") {
        ("h-capacity", "Capacity")
    } else if errors.has("availability") {
        ("h-availability", "Availability")
    } else {
        ("h-hours", "Working hours")
    }
}

/// Who may post a form of a user's page.
#[derive(Debug, Clone, Copy)]
enum Allowed {
    /// Admins: name, seat, permissions, capacity, set-password links.
    Admins,
    /// The user themselves or an admin: availability, working hours, API tokens.
    SelfOrAdmins,
}

/// The user a form posted to `/console/users/{raw}/…` is about, when `who` may post it;
/// else the page to answer with: 404 for a path without a user id, then 403.
// The refusal is the handler's whole response: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
fn form_target(who: &SignedIn, raw: &str, allowed: Allowed) -> Result<UserId, Response> {
    let id = user_id(raw).ok_or_else(no_page)?;
    match allowed {
        Allowed::Admins => who.require_admin()?,
        Allowed::SelfOrAdmins if who.user.id != id && !who.is_admin() => {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "Only an admin or the user themselves may change this.",
            ));
        }
        Allowed::SelfOrAdmins => {}
    }
    Ok(id)
}

fn saved(id: UserId) -> Response {
    see_other(&format!("/console/users/{}", id.0), "saved")
}

async fn user_page(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let Some(id) = user_id(&id) else {
        return no_page();
    };
    show(&console, &who, id, StatusCode::OK, |page| {
        page.layout.flash = notice.text();
    })
    .await
}

async fn save_profile(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match form_target(&who, &id, Allowed::Admins) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let mut errors = Errors::default();
    let name = check(&mut errors, "name", check_name("name", form.get("name")));
    let seat = check(&mut errors, "seat", parse_seat(form.get("seat")));
    let permissions = check(
        &mut errors,
        "permissions",
        parse_permissions(&form.all("permission")),
    );
    let fill = |page: &mut UserPage| {
        page.name = form.get("name").to_owned();
        page.seats = seat_choices(form.get("seat"));
        page.permissions = permission_choices(&form.all("permission"));
    };
    let (Some(name), Some(seat), Some(permissions)) = (name, seat, permissions) else {
        return refused(&console, &who, id, errors, fill).await;
    };
    let changes = UserChanges {
        name,
        seat,
        permissions,
    };
    match console
        .engine()
        .store()
        .update_user(id, changes, who.user.id, Utc::now())
        .await
    {
        Ok(_) => saved(id),
        Err(StoreError::Invalid(error)) => match form_field(&error.field) {
            Some(field @ ("name" | "seat" | "permissions")) => {
                errors.add(field, &error.message);
                refused(&console, &who, id, errors, fill).await
            }
            _ => store_error_page(StoreError::Invalid(error)),
        },
        Err(error) => store_error_page(error),
    }
}

async fn save_capacity(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match form_target(&who, &id, Allowed::Admins) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let mut errors = Errors::default();
    let typed = form.get("capacity").to_owned();
    let fill = |page: &mut UserPage| page.capacity = typed.clone();
    let Some(capacity) = capacity_from_form(&mut errors, "capacity", &typed, None) else {
        return refused(&console, &who, id, errors, fill).await;
    };
    match console.engine().set_capacity(id, capacity).await {
        Ok(_) => saved(id),
        Err(StoreError::Invalid(error)) if error.field == "capacity" => {
            errors.add("capacity", &error.message);
            refused(&console, &who, id, errors, fill).await
        }
        Err(error) => store_error_page(error),
    }
}

async fn save_availability(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match form_target(&who, &id, Allowed::SelfOrAdmins) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let mut errors = Errors::default();
    let fill = |page: &mut UserPage| {
        page.availabilities = availability_choices(form.get("availability"));
    };
    let Some(availability) = check(
        &mut errors,
        "availability",
        parse_availability(form.get("availability")),
    ) else {
        return refused(&console, &who, id, errors, fill).await;
    };
    match console.engine().set_availability(id, availability).await {
        Ok(_) => saved(id),
        Err(error) => store_error_page(error),
    }
}

/// Spans as typed, `09:00-12:30, 13:30-17:00`, as the pairs `WorkingHours::parse`
/// takes; blank is a day off.
fn typed_spans(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.split_once(['-', '–'])
                .map(|(start, end)| (start.trim().to_owned(), end.trim().to_owned()))
                .ok_or_else(|| format!("\"{part}\" is not a span like 09:00-17:00"))
        })
        .collect()
}

/// A working-hours refusal as the day's box shows it: `days.mon[1]` names the second
/// span of Monday.
fn day_error(error: &FieldError, spans: &[(String, String)]) -> (String, String) {
    let rest = error.field.strip_prefix("days.").unwrap_or(&error.field);
    let (day, index) = match rest.split_once('[') {
        Some((day, index)) => (day, index.trim_end_matches(']').parse::<usize>().ok()),
        None => (rest, None),
    };
    let message = match index.and_then(|i| spans.get(i)) {
        Some((start, end)) => format!("{start}-{end}: {}", error.message),
        None => error.message.clone(),
    };
    (day.to_owned(), message)
}

/// The working hours a form describes (`field` reads its boxes): `Ok(None)` for none;
/// the errors by form field.
fn typed_hours<'a>(field: impl Fn(&str) -> &'a str) -> Result<Option<WorkingHours>, Errors> {
    let mut errors = Errors::default();
    let time_zone = field("time_zone").trim();
    let mut days: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    for (key, _, _) in DAYS {
        match typed_spans(field(key)) {
            Ok(spans) if spans.is_empty() => {}
            Ok(spans) => days.push((key, spans)),
            Err(message) => errors.add(key, &message),
        }
    }
    if time_zone.is_empty() {
        if !days.is_empty() || !errors.is_empty() {
            errors.add(
                "time_zone",
                "choose the time zone of these hours, or empty every day for no working hours",
            );
            return Err(errors);
        }
        return Ok(None);
    }
    // The zone, then each day on its own, so that every wrong day gets its error.
    if let Err(error) = WorkingHours::parse(time_zone, []) {
        errors.add("time_zone", &error.message);
        return Err(errors);
    }
    for (key, spans) in &days {
        if let Err(error) = WorkingHours::parse(time_zone, [(*key, spans.clone())]) {
            let (day, message) = day_error(&error, spans);
            errors.add(&day, &message);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    WorkingHours::parse(time_zone, days.clone())
        .map(Some)
        .map_err(|error| {
            let spans = days
                .iter()
                .find(|(key, _)| error.field.starts_with(&format!("days.{key}")))
                .map(|(_, spans)| spans.as_slice())
                .unwrap_or_default();
            let (day, message) = day_error(&error, spans);
            Errors::one(&day, &message)
        })
}

async fn save_hours(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match form_target(&who, &id, Allowed::SelfOrAdmins) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let fill = |page: &mut UserPage| {
        page.zones = zone_choices(form.get("time_zone").trim());
        for day in &mut page.days {
            day.value = form.get(day.key).to_owned();
        }
    };
    let hours = match typed_hours(|name| form.get(name)) {
        Ok(hours) => hours,
        Err(errors) => return refused(&console, &who, id, errors, fill).await,
    };
    match console.engine().set_working_hours(id, hours).await {
        Ok(_) => saved(id),
        Err(StoreError::Invalid(error)) => {
            let (day, message) = day_error(&error, &[]);
            refused(&console, &who, id, Errors::one(&day, &message), fill).await
        }
        Err(error) => store_error_page(error),
    }
}

/// `http(s)://host` of this request, for a link to send to someone; `None` without a
/// host.
fn site(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))?;
    let scheme = if session::over_https(headers) {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

/// The page of `id` showing, once, what was just made.
async fn shown_once(
    console: &Console,
    who: &SignedIn,
    id: UserId,
    notice: &str,
    made: impl FnOnce(&mut UserPage),
) -> Response {
    show(console, who, id, StatusCode::OK, |page| {
        page.layout.flash = Notice {
            notice: Some(notice.to_owned()),
        }
        .text();
        made(page);
    })
    .await
}

async fn create_link(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let id = match form_target(&who, &id, Allowed::Admins) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    issue_link(&console, &who, id, &headers, &uri, "link").await
}

/// Stores a new set-password link for `id` and shows the user's page with it, once.
/// Creating a user ends here too: a new user's first need is a way to sign in.
pub(super) async fn issue_link(
    console: &Console,
    who: &SignedIn,
    id: UserId,
    headers: &HeaderMap,
    uri: &Uri,
    notice: &str,
) -> Response {
    let token = new_token();
    let now = Utc::now();
    let expires = now + chrono::Duration::hours(LINK_HOURS);
    if let Err(error) = console
        .engine()
        .store()
        .create_password_link(id, &hash_token(&token), expires, now)
        .await
    {
        return store_error_page(error);
    }
    tracing::info!(user = id.0, by = who.user.id.0, "set-password link made");
    let link = format!(
        "{}/password/{token}",
        site(headers, uri).unwrap_or_default()
    );
    shown_once(console, who, id, notice, |page| page.link = Some(link)).await
}

async fn create_token(
    State(console): State<Console>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let id = match form_target(&who, &id, Allowed::SelfOrAdmins) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let token = new_token();
    if let Err(error) = console
        .engine()
        .store()
        .add_token(id, &hash_token(&token))
        .await
    {
        return store_error_page(error);
    }
    shown_once(&console, &who, id, "token", |page| page.token = Some(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `typed_hours` of a form with these boxes.
    fn hours(pairs: &[(&str, &str)]) -> Result<Option<WorkingHours>, Errors> {
        typed_hours(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        })
    }

    #[test]
    fn spans_are_read_as_typed() {
        assert_eq!(
            typed_spans(" 09:00-12:30, 13:30 – 17:00 ,"),
            Ok(vec![
                ("09:00".into(), "12:30".into()),
                ("13:30".into(), "17:00".into())
            ])
        );
        assert_eq!(typed_spans("  "), Ok(vec![]));
        assert!(typed_spans("9 to 5").is_err());
    }

    #[test]
    fn hours_errors_land_on_their_day() {
        let errors = hours(&[
            ("time_zone", "Europe/Rome"),
            ("mon", "09:00-17:00"),
            ("tue", "17:00-09:00"),
            ("wed", "9am-5pm"),
            ("thu", "09:00-13:00, 12:00-18:00"),
        ])
        .unwrap_err();
        assert!(errors.get("mon").is_none());
        assert_eq!(
            errors.get("tue"),
            Some("17:00-09:00: a span ends after it starts.")
        );
        assert!(errors.get("wed").unwrap().contains("9am"), "{errors:?}");
        assert_eq!(errors.get("thu"), Some("Spans overlap."));
        let errors = hours(&[("time_zone", "Mars/Olympus")]).unwrap_err();
        assert!(errors.has("time_zone"));
        let errors = hours(&[("mon", "09:00-17:00")]).unwrap_err();
        assert!(errors.has("time_zone"));
    }

    #[test]
    fn hours_from_a_form() {
        assert_eq!(hours(&[("time_zone", ""), ("mon", " ")]).unwrap(), None);
        let friday = hours(&[("time_zone", "UTC"), ("fri", "09:00-17:00")])
            .unwrap()
            .unwrap();
        assert_eq!(friday.time_zone(), "UTC");
        assert_eq!(friday.days().len(), 1);
    }
}
