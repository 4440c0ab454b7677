//! `/console/teams`: every team with its members, and for admins the form that adds
//! one (as `POST /api/v1/teams` does). Teams never change members (a route interns
//! them), so there is no edit form.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use baton_core::ids::UserId;
use baton_core::people::check_name;
use baton_engine::StoreError;

use super::{Choice, Errors, check, respond};
use crate::Console;
use crate::form::Form;
use crate::page::{Layout, Notice, Section, SignedIn, see_other, store_error_page};

pub(super) fn routes() -> Router<Console> {
    Router::new().route("/console/teams", get(teams_page).post(create_team))
}

/// A member as the list links to them.
#[derive(Debug, Clone)]
struct Member {
    id: i64,
    name: String,
}

#[derive(Debug, Clone)]
struct TeamRow {
    name: String,
    members: Vec<Member>,
}

#[derive(Template)]
#[template(path = "teams.html")]
struct TeamsPage {
    layout: Layout,
    teams: Vec<TeamRow>,
    admin: bool,
    name: String,
    /// Every user, as a checkbox; those typed checked.
    users: Vec<Choice>,
    errors: Errors,
}

async fn page(
    console: &Console,
    layout: Layout,
    who: &SignedIn,
    form: Option<&Form>,
    errors: Errors,
) -> Result<TeamsPage, Response> {
    let store = console.engine().store();
    let users = store.users().await.map_err(store_error_page)?;
    let teams = store.teams().await.map_err(store_error_page)?;
    let name_of = |id: UserId| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("User {}", id.0))
    };
    let checked = form.map(|f| f.all("member")).unwrap_or_default();
    Ok(TeamsPage {
        layout,
        teams: teams
            .into_iter()
            .map(|team| TeamRow {
                name: team.name,
                members: team
                    .user_ids
                    .into_iter()
                    .map(|id| Member {
                        id: id.0,
                        name: name_of(id),
                    })
                    .collect(),
            })
            .collect(),
        admin: who.is_admin(),
        name: form.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        users: users
            .iter()
            .map(|u| {
                let value = u.id.0.to_string();
                let selected = checked.contains(&value);
                Choice::new(value, u.name.clone(), selected)
            })
            .collect(),
        errors,
    })
}

async fn teams_page(
    State(console): State<Console>,
    who: SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let layout = Layout::new("Teams", Section::Teams, &who).with_flash(notice.text());
    let page = page(&console, layout, &who, None, Errors::default()).await;
    respond(StatusCode::OK, page)
}

async fn create_team(State(console): State<Console>, who: SignedIn, form: Form) -> Response {
    if let Err(refusal) = who.require_admin() {
        return refusal;
    }
    let mut errors = Errors::default();
    let name = check(&mut errors, "name", check_name("name", form.get("name")));
    let members: Option<Vec<UserId>> = form
        .all("member")
        .iter()
        .map(|id| id.parse::<i64>().map(UserId))
        .collect::<Result<_, _>>()
        .ok();
    if members.is_none() {
        errors.add("members", "choose members from the list");
    }
    let refuse = async |errors: Errors| {
        let layout = Layout::new("Teams", Section::Teams, &who);
        let page = page(&console, layout, &who, Some(&form), errors).await;
        respond(StatusCode::UNPROCESSABLE_ENTITY, page)
    };
    let (Some(name), Some(members)) = (name, members) else {
        return refuse(errors).await;
    };
    match console.engine().store().create_team(&name, &members).await {
        Ok(_) => see_other("/console/teams", "created"),
        // `user_ids[i]`: a member who no longer exists.
        Err(StoreError::Invalid(error)) if error.field.starts_with("user_ids") => {
            refuse(Errors::one("members", &error.message)).await
        }
        Err(StoreError::Invalid(error)) if error.field == "name" => {
            refuse(Errors::one("name", &error.message)).await
        }
        Err(error) => store_error_page(error),
    }
}
