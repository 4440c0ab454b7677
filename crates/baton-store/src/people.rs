//! Users, tokens, teams and inboxes.

use baton_core::ids::{InboxId, TeamId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::{Destination, FieldError, HandoffSettings};
use baton_engine::StoreError;
use baton_engine::model::{Inbox, InboxKind, NewUser, Team, User, UserChanges};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::convert::{self, micros};
use crate::entity::{agent_state, inbox, team, team_member, token, user};
use crate::routing::lock_routing;
use crate::turns::audit;
use crate::{Result, backend};

/// Capacity of the bootstrap owner and of users created without one.
pub(crate) const DEFAULT_CAPACITY: u32 = 5;

pub(crate) async fn insert_user(
    db: &impl ConnectionTrait,
    new: &NewUser,
    now: DateTime<Utc>,
) -> Result<User> {
    // Sign-in finds a user by email: two users with one email would make it ambiguous.
    let taken = user::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(user::Column::Email)))
                .eq(Func::lower(new.email.as_str())),
        )
        .one(db)
        .await
        .map_err(backend)?;
    if taken.is_some() {
        return Err(FieldError::new("email", "another user signs in with this email").into());
    }
    let row = user::ActiveModel {
        name: Set(new.name.clone()),
        email: Set(new.email.clone()),
        seat: Set(new.seat.as_str().to_owned()),
        permissions: Set(convert::permissions(&new.permissions)),
        capacity: Set(i64::from(new.capacity)),
        availability: Set(Availability::Available.as_str().to_owned()),
        open_count: Set(0),
        last_assigned_at: Set(None),
        idle_since: Set(i64::MIN),
        working_hours: Set(None),
        created_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    convert::user(row)
}

pub(crate) async fn bootstrap_owner(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    if user::Entity::find().count(db).await.map_err(backend)? > 0 {
        return Ok(None);
    }
    let owner = insert_user(
        db,
        &NewUser {
            name: "Owner".into(),
            email: "owner@localhost".into(),
            seat: Seat::Service,
            permissions: vec![Permission::Admin, Permission::CustomerAgentEditor],
            capacity: DEFAULT_CAPACITY,
        },
        now,
    )
    .await?;
    add_token(db, owner.id, token_hash, now).await?;
    crate::settings::insert_version(db, &HandoffSettings::default(), None, now).await?;
    agent_state::ActiveModel {
        id: Set(1),
        paused: Set(false),
        updated_at: Set(micros(now)),
    }
    .insert(db)
    .await
    .map_err(backend)?;
    Ok(Some(owner))
}

pub(crate) async fn add_token(
    db: &impl ConnectionTrait,
    user: UserId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    token::ActiveModel {
        user_id: Set(user.0),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn user_by_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<User>> {
    let Some(token) = token::Entity::find()
        .filter(token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
        .map_err(backend)?
    else {
        return Ok(None);
    };
    match user::Entity::find_by_id(token.user_id)
        .one(db)
        .await
        .map_err(backend)?
    {
        Some(row) => convert::user(row).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn user_row(db: &impl ConnectionTrait, id: UserId) -> Result<user::Model> {
    find_user(db, id, false).await
}

/// The user row, locked for the rest of the transaction (PostgreSQL).
pub(crate) async fn lock_user(db: &impl ConnectionTrait, id: UserId) -> Result<user::Model> {
    find_user(db, id, true).await
}

async fn find_user(db: &impl ConnectionTrait, id: UserId, lock: bool) -> Result<user::Model> {
    let mut query = user::Entity::find_by_id(id.0);
    if lock {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "user",
            id: id.0,
        })
}

/// Changes a user's name, seat and permissions (see `Store::update_user`). Under the
/// routing lock, which `settings::put` takes too: the settings cannot start routing to
/// the user between the check and the commit, and two admins cannot each take the
/// other's `admin` at once.
pub(crate) async fn update(
    db: &impl ConnectionTrait,
    id: UserId,
    changes: UserChanges,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<User> {
    lock_routing(db).await?;
    let before = convert::user(lock_user(db, id).await?)?;
    let name = baton_core::people::check_name("name", &changes.name)?;
    let name = name.as_str();
    // Taking the seat away (keeping none is no change: unseated users may sit in a
    // routed team, and stay editable).
    if before.seat.is_paid() && !changes.seat.is_paid() && routed_to(db, id).await? {
        return Err(FieldError::new(
            "seat",
            "the handoff settings route conversations to this user, who needs a paid seat; \
             take them out of the destination first",
        )
        .into());
    }
    let mut permissions: Vec<Permission> = Vec::with_capacity(changes.permissions.len());
    for permission in changes.permissions {
        if !permissions.contains(&permission) {
            permissions.push(permission);
        }
    }
    if before.has(Permission::Admin)
        && !permissions.contains(&Permission::Admin)
        && !another_admin(db, id).await?
    {
        return Err(FieldError::new(
            "permissions",
            "this is the last user with admin; give admin to someone else first",
        )
        .into());
    }
    user::Entity::update_many()
        .col_expr(user::Column::Name, Expr::value(name))
        .col_expr(user::Column::Seat, Expr::value(changes.seat.as_str()))
        .col_expr(
            user::Column::Permissions,
            Expr::value(convert::permissions(&permissions)),
        )
        .filter(user::Column::Id.eq(id.0))
        .exec(db)
        .await
        .map_err(backend)?;
    let after = get_user(db, id).await?;
    let summary = |u: &User| {
        json!({
            "name": u.name,
            "seat": u.seat.as_str(),
            "permissions": u.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        })
    };
    let detail = json!({"user_id": id.0, "before": summary(&before), "after": summary(&after)});
    audit(db, now, "user_changed", Some(actor), None, detail).await?;
    Ok(after)
}

/// Whether the current handoff settings name the user, directly or through a team.
async fn routed_to(db: &impl ConnectionTrait, id: UserId) -> Result<bool> {
    let Some(Destination::UsersAndTeams {
        user_ids, team_ids, ..
    }) = crate::settings::current(db).await?.settings.destination
    else {
        return Ok(false);
    };
    if user_ids.contains(&id) {
        return Ok(true);
    }
    if team_ids.is_empty() {
        return Ok(false);
    }
    let in_team = team_member::Entity::find()
        .filter(team_member::Column::TeamId.is_in(team_ids.iter().map(|t| t.0)))
        .filter(team_member::Column::UserId.eq(id.0))
        .one(db)
        .await
        .map_err(backend)?;
    Ok(in_team.is_some())
}

/// Whether a user other than `id` has `admin`. Permissions are a comma-separated list:
/// the `LIKE` narrows, the parse decides.
async fn another_admin(db: &impl ConnectionTrait, id: UserId) -> Result<bool> {
    let admin = Permission::Admin.as_str();
    let rows = user::Entity::find()
        .filter(user::Column::Id.ne(id.0))
        .filter(user::Column::Permissions.like(format!("%{admin}%")))
        .all(db)
        .await
        .map_err(backend)?;
    Ok(rows
        .iter()
        .any(|row| row.permissions.split(',').any(|p| p == admin)))
}

pub(crate) async fn get_user(db: &impl ConnectionTrait, id: UserId) -> Result<User> {
    convert::user(user_row(db, id).await?)
}

pub(crate) async fn users(db: &impl ConnectionTrait) -> Result<Vec<User>> {
    user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(convert::user)
        .collect()
}

pub(crate) async fn create_team(
    db: &impl ConnectionTrait,
    name: &str,
    members: &[UserId],
    now: DateTime<Utc>,
) -> Result<Team> {
    let mut members: Vec<UserId> = members.to_vec();
    members.sort();
    members.dedup();
    for (i, member) in members.iter().enumerate() {
        if user::Entity::find_by_id(member.0)
            .one(db)
            .await
            .map_err(backend)?
            .is_none()
        {
            return Err(FieldError::new(
                format!("user_ids[{i}]"),
                format!("no user has id {member}"),
            )
            .into());
        }
    }
    let row = team::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    for member in &members {
        team_member::ActiveModel {
            team_id: Set(row.id),
            user_id: Set(member.0),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(backend)?;
    }
    Ok(convert::team(row, members.iter().map(|m| m.0).collect()))
}

pub(crate) async fn team_members(
    db: &impl ConnectionTrait,
    teams: &[i64],
) -> Result<Vec<(i64, i64)>> {
    Ok(team_member::Entity::find()
        .filter(team_member::Column::TeamId.is_in(teams.iter().copied()))
        .order_by_asc(team_member::Column::UserId)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(|m| (m.team_id, m.user_id))
        .collect())
}

pub(crate) async fn teams(db: &impl ConnectionTrait) -> Result<Vec<Team>> {
    let rows = team::Entity::find()
        .order_by_asc(team::Column::Id)
        .all(db)
        .await
        .map_err(backend)?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let members = team_members(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine = members
                .iter()
                .filter(|(team, _)| *team == row.id)
                .map(|(_, user)| *user)
                .collect();
            convert::team(row, mine)
        })
        .collect())
}

pub(crate) async fn team(db: &impl ConnectionTrait, id: TeamId) -> Result<Team> {
    let row = team::Entity::find_by_id(id.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "team",
            id: id.0,
        })?;
    let members = team_members(db, &[id.0]).await?;
    Ok(convert::team(
        row,
        members.into_iter().map(|(_, u)| u).collect(),
    ))
}

pub(crate) async fn create_inbox(
    db: &impl ConnectionTrait,
    name: &str,
    kind: InboxKind,
    now: DateTime<Utc>,
) -> Result<Inbox> {
    let row = inbox::ActiveModel {
        name: Set(name.to_owned()),
        kind: Set(kind.as_str().to_owned()),
        created_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    convert::inbox(row)
}

pub(crate) async fn inboxes(db: &impl ConnectionTrait) -> Result<Vec<Inbox>> {
    inbox::Entity::find()
        .order_by_asc(inbox::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(convert::inbox)
        .collect()
}

pub(crate) async fn inbox(db: &impl ConnectionTrait, id: InboxId) -> Result<Inbox> {
    convert::inbox(
        inbox::Entity::find_by_id(id.0)
            .one(db)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound {
                what: "inbox",
                id: id.0,
            })?,
    )
}
