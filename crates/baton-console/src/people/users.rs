//! `/console/users`: every user, and for admins the form that adds one (as
//! `POST /api/v1/users` does).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use baton_core::people::{
    DEFAULT_CAPACITY, MAX_CAPACITY, check_capacity, check_email, check_name, parse_permissions,
    parse_seat,
};
use baton_engine::StoreError;
use baton_engine::model::NewUser;
use chrono::Utc;

use super::{Choice, Errors, UserView, check, permission_choices, respond, seat_choices};
use crate::Console;
use crate::form::Form;
use crate::page::{Layout, Notice, Section, SignedIn, store_error_page};

pub(super) fn routes() -> Router<Console> {
    Router::new().route("/console/users", get(users_page).post(create_user))
}

/// What the "Add user" form holds: empty, or what the person typed.
#[derive(Debug, Clone)]
struct NewUserForm {
    name: String,
    email: String,
    seats: Vec<Choice>,
    permissions: Vec<Choice>,
    capacity: String,
}

impl NewUserForm {
    fn empty() -> Self {
        NewUserForm {
            name: String::new(),
            email: String::new(),
            seats: seat_choices("none"),
            permissions: permission_choices(&[]),
            capacity: DEFAULT_CAPACITY.to_string(),
        }
    }

    fn typed(form: &Form) -> Self {
        NewUserForm {
            name: form.get("name").to_owned(),
            email: form.get("email").to_owned(),
            seats: seat_choices(form.get("seat")),
            permissions: permission_choices(&form.all("permission")),
            capacity: form.get("capacity").to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserView>,
    admin: bool,
    new: NewUserForm,
    errors: Errors,
    max_capacity: u32,
}

async fn page(
    console: &Console,
    layout: Layout,
    who: &SignedIn,
    new: NewUserForm,
    errors: Errors,
) -> Result<UsersPage, Response> {
    let users = console
        .engine()
        .store()
        .users()
        .await
        .map_err(store_error_page)?;
    let now = Utc::now();
    Ok(UsersPage {
        layout,
        users: users.iter().map(|u| UserView::new(u, now)).collect(),
        admin: who.is_admin(),
        new,
        errors,
        max_capacity: MAX_CAPACITY,
    })
}

async fn users_page(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let layout = Layout::new("Users", Section::Users, &who).with_flash(notice.text());
    let page = page(
        &console,
        layout,
        &who,
        NewUserForm::empty(),
        Errors::default(),
    )
    .await;
    respond(StatusCode::OK, page)
}

/// A capacity typed in a form: blank means the default, as a missing one in the API.
fn typed_capacity(text: &str, blank: Option<u32>) -> Result<u32, String> {
    let text = text.trim();
    let value = match (text.is_empty(), blank) {
        (true, Some(default)) => default,
        _ => text
            .parse::<u32>()
            .map_err(|_| format!("a whole number from 0 to {MAX_CAPACITY}"))?,
    };
    check_capacity(value).map_err(|e| e.message)
}

pub(super) fn capacity_from_form(
    errors: &mut Errors,
    field: &str,
    text: &str,
    blank: Option<u32>,
) -> Option<u32> {
    match typed_capacity(text, blank) {
        Ok(value) => Some(value),
        Err(message) => {
            errors.add(field, &message);
            None
        }
    }
}

async fn create_user(
    State(console): State<Console>,
    who: SignedIn,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    form: Form,
) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let mut errors = Errors::default();
    let name = check(&mut errors, "name", check_name("name", form.get("name")));
    let email = check(&mut errors, "email", check_email(form.get("email")));
    let seat = check(&mut errors, "seat", parse_seat(form.get("seat")));
    let permissions = check(
        &mut errors,
        "permissions",
        parse_permissions(&form.all("permission")),
    );
    let capacity = capacity_from_form(
        &mut errors,
        "capacity",
        form.get("capacity"),
        Some(DEFAULT_CAPACITY),
    );
    let refuse = async |errors: Errors| {
        let layout = Layout::new("Users", Section::Users, &who);
        let page = page(&console, layout, &who, NewUserForm::typed(&form), errors).await;
        respond(StatusCode::UNPROCESSABLE_ENTITY, page)
    };
    let (Some(name), Some(email), Some(seat), Some(permissions), Some(capacity)) =
        (name, email, seat, permissions, capacity)
    else {
        return refuse(errors).await;
    };
    let created = console
        .engine()
        .store()
        .create_user(NewUser {
            name,
            email,
            seat,
            permissions,
            capacity,
        })
        .await;
    match created {
        Ok(user) => {
            super::user::issue_link(&console, &who, user.id, &headers, &uri, "user_created").await
        }
        Err(StoreError::Invalid(error)) => match form_field(&error.field) {
            Some(field) => refuse(Errors::one(field, &error.message)).await,
            None => store_error_page(StoreError::Invalid(error)),
        },
        Err(error) => store_error_page(error),
    }
}

/// The form field a refusal names (`permissions[0]` is the permissions group).
pub(super) fn form_field(field: &str) -> Option<&'static str> {
    match field.split(['[', '.']).next().unwrap_or(field) {
        "name" => Some("name"),
        "email" => Some("email"),
        "seat" => Some("seat"),
        "permissions" => Some("permissions"),
        "capacity" => Some("capacity"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_capacities() {
        assert_eq!(typed_capacity(" ", Some(5)), Ok(5));
        assert_eq!(typed_capacity("7", Some(5)), Ok(7));
        assert!(typed_capacity("", None).is_err());
        assert!(typed_capacity("-1", None).is_err());
        assert_eq!(typed_capacity("1001", None), Err("at most 1000".to_owned()));
    }
}
