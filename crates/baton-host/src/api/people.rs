//! Users, tokens, teams and inboxes (F6).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use std::collections::BTreeMap;

use baton_core::hours::WorkingHours;
use baton_core::ids::UserId;
use baton_core::people::{
    DEFAULT_CAPACITY, Permission, check_capacity, check_email, check_name, parse_availability,
    parse_permissions, parse_seat,
};
use baton_engine::model::{Inbox, InboxKind, NewUser, Team, User, UserChanges};
use baton_http::{ApiError, ApiJson, ApiPath, hash_token, new_token};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", post(create_user).get(list_users))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user))
        .route("/api/v1/users/{id}/tokens", post(create_token))
        .route("/api/v1/users/{id}/availability", put(set_availability))
        .route("/api/v1/users/{id}/capacity", put(set_capacity))
        .route("/api/v1/users/{id}/working_hours", put(set_working_hours))
        .route("/api/v1/teams", post(create_team).get(list_teams))
        .route("/api/v1/inboxes", post(create_inbox).get(list_inboxes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// `none`, `sales` or `service`.
    pub seat: String,
    pub permissions: Vec<String>,
    pub capacity: u32,
    /// `available` or `away`.
    pub availability: String,
    pub open_conversations: u32,
    /// Null: always within hours (only `availability` counts).
    pub working_hours: Option<WorkingHoursDto>,
}

/// Working hours in the user's time zone; outside them the user counts as away.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingHoursDto {
    /// IANA name, e.g. `Europe/Rome`.
    pub time_zone: String,
    /// Per day (`mon`..`sun`), `[start, end)` spans as `["09:00", "17:30"]`; a missing
    /// day is off.
    #[schema(value_type = Object)]
    pub days: BTreeMap<String, Vec<[String; 2]>>,
}

impl From<&WorkingHours> for WorkingHoursDto {
    fn from(hours: &WorkingHours) -> Self {
        WorkingHoursDto {
            time_zone: hours.time_zone().to_owned(),
            days: hours
                .days()
                .into_iter()
                .map(|(day, spans)| {
                    (
                        day.to_owned(),
                        spans.into_iter().map(|(s, e)| [s, e]).collect(),
                    )
                })
                .collect(),
        }
    }
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id.0,
            name: u.name,
            email: u.email,
            seat: u.seat.as_str().to_owned(),
            permissions: u
                .permissions
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            capacity: u.capacity,
            availability: u.availability.as_str().to_owned(),
            open_conversations: u.open_conversations,
            working_hours: u.working_hours.as_ref().map(WorkingHoursDto::from),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Users {
    pub users: Vec<UserDto>,
}

/// A permission's name, for the document only: the handlers parse the strings themselves so
/// an unknown one is answered with the list of known ones.
#[derive(Debug, ToSchema)]
#[schema(as = PermissionName)]
#[allow(dead_code)]
enum PermissionName {
    #[schema(rename = "admin")]
    Admin,
    #[schema(rename = "customer_agent_editor")]
    CustomerAgentEditor,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: String,
    #[schema(pattern = "@", max_length = 320)]
    pub email: String,
    /// `none`, `sales` or `service`.
    #[schema(pattern = "^(none|sales|service)$")]
    pub seat: String,
    #[serde(default)]
    #[schema(inline, value_type = Vec<PermissionName>)]
    pub permissions: Vec<String>,
    /// Open conversations at once (default 5).
    #[schema(maximum = 1000)]
    pub capacity: Option<u32>,
}

// The rules (name, email, capacity, the names of seats and permissions) are
// `baton_core::people`'s, shared with the console's pages.

fn name(field: &str, value: &str) -> Result<String, ApiError> {
    check_name(field, value).map_err(ApiError::Invalid)
}

fn capacity(value: u32) -> Result<u32, ApiError> {
    check_capacity(value).map_err(ApiError::Invalid)
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserDto), (status = 422, body = baton_http::ErrorBody,
        description = "A name blank once trimmed, or another user signs in with this email")),
    security(("bearer" = [])))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, ApiJson<UserDto>), ApiError> {
    staff.require(Permission::Admin)?;
    let email = check_email(&body.email).map_err(ApiError::Invalid)?;
    let seat = parse_seat(&body.seat).map_err(ApiError::Invalid)?;
    let permissions = parse_permissions(&body.permissions).map_err(ApiError::Invalid)?;
    let user = state
        .engine
        .store()
        .create_user(NewUser {
            name: name("name", &body.name)?,
            email,
            seat,
            permissions,
            capacity: capacity(body.capacity.unwrap_or(DEFAULT_CAPACITY))?,
        })
        .await?;
    Ok((StatusCode::CREATED, ApiJson(user.into())))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Users)), security(("bearer" = [])))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<Users>, ApiError> {
    let users = state.engine.store().users().await?;
    Ok(ApiJson(Users {
        users: users.into_iter().map(UserDto::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<UserDto>, ApiError> {
    Ok(ApiJson(state.engine.store().user(UserId(id)).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    /// Shown once; only its hash is stored.
    pub token: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", tag = "users", params(("id" = i64, Path)),
    responses((status = 201, body = NewToken), (status = 403, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, ApiJson<NewToken>), ApiError> {
    staff.require_self_or_admin(id)?;
    let token = new_token();
    state
        .engine
        .store()
        .add_token(UserId(id), &hash_token(&token))
        .await?;
    Ok((StatusCode::CREATED, ApiJson(NewToken { token })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAvailability {
    /// `available` or `away`.
    #[schema(pattern = "^(available|away)$")]
    pub availability: String,
}

#[utoipa::path(put, path = "/api/v1/users/{id}/availability", tag = "users",
    params(("id" = i64, Path)), request_body = SetAvailability,
    responses((status = 200, body = UserDto)), security(("bearer" = [])))]
pub(crate) async fn set_availability(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetAvailability>,
) -> Result<ApiJson<UserDto>, ApiError> {
    staff.require_self_or_admin(id)?;
    let availability = parse_availability(&body.availability).map_err(ApiError::Invalid)?;
    let user = state
        .engine
        .set_availability(UserId(id), availability)
        .await?;
    Ok(ApiJson(user.into()))
}

/// `PATCH /api/v1/users/{id}`: what an admin may change besides capacity, availability
/// and hours. Absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: Option<String>,
    /// `none`, `sales` or `service`.
    #[schema(pattern = "^(none|sales|service)$")]
    pub seat: Option<String>,
    #[schema(inline, value_type = Option<Vec<PermissionName>>)]
    pub permissions: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path)), request_body = UpdateUser,
    responses((status = 200, body = UserDto), (status = 403, body = baton_http::ErrorBody),
        (status = 422, body = baton_http::ErrorBody, description = "A name blank once \
        trimmed, or the change takes admin from the last user who has it")),
    security(("bearer" = [])))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<ApiJson<UserDto>, ApiError> {
    staff.require(Permission::Admin)?;
    let store = state.engine.store();
    let current = store.user(UserId(id)).await?;
    let changes = UserChanges {
        name: match body.name {
            Some(name) => baton_core::people::check_name("name", &name)?,
            None => current.name,
        },
        seat: match body.seat {
            Some(seat) => baton_core::people::parse_seat(&seat)?,
            None => current.seat,
        },
        permissions: match body.permissions {
            Some(permissions) => baton_core::people::parse_permissions(&permissions)?,
            None => current.permissions,
        },
    };
    let user = store
        .update_user(UserId(id), changes, staff.0.id, chrono::Utc::now())
        .await?;
    Ok(ApiJson(user.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCapacity {
    #[schema(maximum = 1000)]
    pub capacity: u32,
}

#[utoipa::path(put, path = "/api/v1/users/{id}/capacity", tag = "users",
    params(("id" = i64, Path)), request_body = SetCapacity,
    responses((status = 200, body = UserDto)), security(("bearer" = [])))]
pub(crate) async fn set_capacity(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetCapacity>,
) -> Result<ApiJson<UserDto>, ApiError> {
    staff.require(Permission::Admin)?;
    let user = state
        .engine
        .set_capacity(UserId(id), capacity(body.capacity)?)
        .await?;
    Ok(ApiJson(user.into()))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/working_hours", tag = "users",
    params(("id" = i64, Path)), request_body = Option<WorkingHoursDto>,
    responses((status = 200, body = UserDto), (status = 422, body = baton_http::ErrorBody,
        description = "A time zone the server does not know, a span that does not end after \
        it starts, or spans of a day that overlap")),
    security(("bearer" = [])))]
pub(crate) async fn set_working_hours(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Option<WorkingHoursDto>>,
) -> Result<ApiJson<UserDto>, ApiError> {
    staff.require_self_or_admin(id)?;
    let hours = body
        .map(|dto| {
            WorkingHours::parse(
                &dto.time_zone,
                dto.days.iter().map(|(day, spans)| {
                    let spans = spans.iter().map(|[s, e]| (s.clone(), e.clone())).collect();
                    (day.as_str(), spans)
                }),
            )
        })
        .transpose()
        .map_err(ApiError::Invalid)?;
    let user = state.engine.set_working_hours(UserId(id), hours).await?;
    Ok(ApiJson(user.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub user_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    pub id: i64,
    pub name: String,
    pub user_ids: Vec<i64>,
}

impl From<Team> for TeamDto {
    fn from(t: Team) -> Self {
        TeamDto {
            id: t.id.0,
            name: t.name,
            user_ids: t.user_ids.into_iter().map(|u| u.0).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Teams {
    pub teams: Vec<TeamDto>,
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = CreateTeam,
    responses((status = 201, body = TeamDto), (status = 422, body = baton_http::ErrorBody,
        description = "A name blank once trimmed, or a member id no user has")),
    security(("bearer" = [])))]
pub(crate) async fn create_team(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<CreateTeam>,
) -> Result<(StatusCode, ApiJson<TeamDto>), ApiError> {
    staff.require(Permission::Admin)?;
    let members: Vec<UserId> = body.user_ids.into_iter().map(UserId).collect();
    let team = state
        .engine
        .store()
        .create_team(&name("name", &body.name)?, &members)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(team.into())))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams",
    responses((status = 200, body = Teams)), security(("bearer" = [])))]
pub(crate) async fn list_teams(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<Teams>, ApiError> {
    let teams = state.engine.store().teams().await?;
    Ok(ApiJson(Teams {
        teams: teams.into_iter().map(TeamDto::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: String,
    /// `inbox` or `help_desk`.
    pub kind: InboxKindDto,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxKindDto {
    Inbox,
    HelpDesk,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxDto {
    pub id: i64,
    pub name: String,
    pub kind: InboxKindDto,
}

impl From<Inbox> for InboxDto {
    fn from(i: Inbox) -> Self {
        InboxDto {
            id: i.id.0,
            name: i.name,
            kind: match i.kind {
                InboxKind::Inbox => InboxKindDto::Inbox,
                InboxKind::HelpDesk => InboxKindDto::HelpDesk,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inboxes {
    pub inboxes: Vec<InboxDto>,
}

#[utoipa::path(post, path = "/api/v1/inboxes", tag = "inboxes", request_body = CreateInbox,
    responses((status = 201, body = InboxDto)), security(("bearer" = [])))]
pub(crate) async fn create_inbox(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<CreateInbox>,
) -> Result<(StatusCode, ApiJson<InboxDto>), ApiError> {
    staff.require(Permission::Admin)?;
    let kind = match body.kind {
        InboxKindDto::Inbox => InboxKind::Inbox,
        InboxKindDto::HelpDesk => InboxKind::HelpDesk,
    };
    let inbox = state
        .engine
        .store()
        .create_inbox(&name("name", &body.name)?, kind)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(inbox.into())))
}

#[utoipa::path(get, path = "/api/v1/inboxes", tag = "inboxes",
    responses((status = 200, body = Inboxes)), security(("bearer" = [])))]
pub(crate) async fn list_inboxes(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<Inboxes>, ApiError> {
    let inboxes = state.engine.store().inboxes().await?;
    Ok(ApiJson(Inboxes {
        inboxes: inboxes.into_iter().map(InboxDto::from).collect(),
    }))
}
