//! Manual assignment and claims, under the same atomic rule as routing: one owner,
//! capacity respected, and no silent override of another owner. And the way back: live
//! conversations nobody has answered return to the queue when their assignee goes away.

use baton_core::ids::{ConversationId, TeamId, UserId};
use baton_core::people::Seat;
use baton_core::settings::FieldError;
use baton_engine::StoreError;
use baton_engine::model::{Assignment, Conversation};
use std::time::Duration;

use baton_routing::Mode;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::convert::micros;
use crate::entity::{conversation, team, user};
use crate::routing::{
    available_at, drain, give, lock_routing, release_capacity, route_of, strategy, take_capacity,
    take_one,
};
use crate::turns::{audit, get, locked};
use crate::{Result, backend};

/// Who takes a conversation, and from whom.
pub(crate) struct Manual {
    pub(crate) id: ConversationId,
    pub(crate) user: UserId,
    /// The owner the caller expects to move it from; required when someone holds it.
    pub(crate) from: Option<UserId>,
    pub(crate) actor: UserId,
    pub(crate) rule: String,
}

pub(crate) async fn assign(
    db: &impl ConnectionTrait,
    manual: Manual,
    now: DateTime<Utc>,
) -> Result<(Conversation, Vec<Assignment>)> {
    let Manual {
        id,
        user: to,
        from,
        actor,
        rule,
    } = manual;
    let (_, holder) = holder_to_move(db, id, from).await?;
    if holder == Some(to) {
        return Ok((get(db, id).await?, Vec::new()));
    }
    lock_routing(db).await?;
    let target = user::Entity::find_by_id(to.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or_else(|| FieldError::new("user_id", format!("no user has id {to}")))?;
    if !target.seat.parse::<Seat>().is_ok_and(Seat::is_paid) {
        return Err(FieldError::new(
            "user_id",
            format!("user {to} has no paid seat and cannot hold conversations"),
        )
        .into());
    }
    // A manual assignment does not need the user to be available: the async rule.
    if !take_one(db, to, Mode::Async, now).await? {
        return Err(StoreError::Conflict(format!(
            "user {to} is at capacity; a conversation must close first"
        )));
    }
    if let Some(holder) = holder {
        release_capacity(db, holder).await?;
    }
    give(db, id, to, now).await?;
    audit(
        db,
        now,
        "assignment",
        Some(actor),
        Some(id),
        json!({"assignee_user_id": to.0, "from_user_id": holder.map(|h| h.0), "rule": rule}),
    )
    .await?;
    // Capacity freed by the previous owner goes to the queue.
    let assignments = match holder {
        Some(_) => drain(db, now).await?,
        None => Vec::new(),
    };
    Ok((get(db, id).await?, assignments))
}

/// Locks open conversation `id` and returns it with who holds it, checking that `from`
/// names them: an owner is never replaced silently.
async fn holder_to_move(
    db: &impl ConnectionTrait,
    id: ConversationId,
    from: Option<UserId>,
) -> Result<(conversation::Model, Option<UserId>)> {
    let row = locked(db, id).await?;
    if row.status != "open" {
        return Err(StoreError::Conflict("the conversation is closed".into()));
    }
    let holder = (row.assignee_kind == "user")
        .then_some(row.assignee_user_id)
        .flatten()
        .map(UserId);
    match (holder, from) {
        (Some(holder), Some(from)) if holder == from => Ok((row, Some(holder))),
        (Some(holder), _) => Err(StoreError::Conflict(format!(
            "user {holder} holds this conversation; name them as from_user_id to move it"
        ))),
        (None, Some(from)) => Err(StoreError::Conflict(format!(
            "user {from} does not hold this conversation"
        ))),
        (None, None) => Ok((row, None)),
    }
}

/// Gives conversation `id` to a member of `team` under the routing rules of a handoff
/// (paid seat, available now, free capacity; the route's strategy), never back to the
/// one who holds it. `Conflict` when no member can take it now: it stays where it is.
pub(crate) async fn assign_team(
    db: &impl ConnectionTrait,
    id: ConversationId,
    team: TeamId,
    from: Option<UserId>,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(Conversation, Vec<Assignment>)> {
    let (row, holder) = holder_to_move(db, id, from).await?;
    let found = team::Entity::find_by_id(team.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or_else(|| FieldError::new("team_id", format!("no team has id {team}")))?;
    let route = crate::routes::intern(db, &[], &[team], now).await?;
    let strategy = strategy(row.route_strategy.as_deref());
    let Some(chosen) = take_capacity(db, route.id, holder, Mode::Live, strategy, now).await? else {
        return Err(StoreError::Conflict(format!(
            "nobody in team {} can take it now (a paid seat, available, with free capacity)",
            found.name
        )));
    };
    if let Some(holder) = holder {
        release_capacity(db, holder).await?;
    }
    give(db, id, chosen.user_id, now).await?;
    let rule = format!(
        "reassigned to team {} by user {actor}: {}",
        found.name, chosen.rule
    );
    audit(
        db,
        now,
        "assignment",
        Some(actor),
        Some(id),
        json!({"assignee_user_id": chosen.user_id.0, "from_user_id": holder.map(|h| h.0),
               "team_id": team.0, "rule": rule}),
    )
    .await?;
    let mut assignments = vec![Assignment {
        conversation_id: id,
        user_id: chosen.user_id,
        waited_seconds: 0.0,
        rule,
    }];
    if holder.is_some() {
        assignments.extend(drain(db, now).await?);
    }
    Ok((get(db, id).await?, assignments))
}

/// Returns `user`'s live conversations that no human has answered yet to the queue, in
/// their original place (their handoff time), and gives back the capacity they held.
/// Async follow-ups stay: their owner answers later by design. Callers hold the routing
/// lock.
pub(crate) async fn requeue_unanswered(
    db: &impl ConnectionTrait,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<ConversationId>> {
    let rows = conversation::Entity::find()
        .filter(conversation::Column::AssigneeUserId.eq(user_id.0))
        .filter(conversation::Column::Status.eq("open"))
        .filter(conversation::Column::HandoffProcess.eq("live"))
        .filter(conversation::Column::HumanReplied.eq(false))
        // The routing lock is held, and the lock order is conversation first: rows that
        // another transaction holds (a reply or a close in flight) are skipped, not
        // waited for.
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
        .map_err(backend)?;
    let mut requeued = Vec::with_capacity(rows.len());
    for row in rows {
        let id = ConversationId(row.id);
        conversation::Entity::update_many()
            .col_expr(conversation::Column::AssigneeKind, Expr::value("none"))
            .col_expr(
                conversation::Column::AssigneeUserId,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(conversation::Column::Queued, Expr::value(true))
            .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
            .filter(conversation::Column::Id.eq(row.id))
            .exec(db)
            .await
            .map_err(backend)?;
        release_capacity(db, user_id).await?;
        audit(
            db,
            now,
            "requeued",
            None,
            Some(id),
            json!({"from_user_id": user_id.0, "reason": "the assignee went away before any human reply"}),
        )
        .await?;
        requeued.push(id);
    }
    Ok(requeued)
}

/// Moves live conversations whose assignee has not replied within `timeout` to the next
/// eligible user on their route (not the current one). A conversation nobody else can
/// take stays where it is. Returns the moves.
pub(crate) async fn reroute_unanswered(
    db: &impl ConnectionTrait,
    timeout: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Assignment>> {
    let deadline = micros(now) - i64::try_from(timeout.as_micros()).unwrap_or(i64::MAX);
    // Lock order: conversations first (skipping any another transaction holds), then
    // the routing lock inside `take_capacity`.
    let rows = conversation::Entity::find()
        .filter(conversation::Column::Status.eq("open"))
        .filter(conversation::Column::AssigneeKind.eq("user"))
        .filter(conversation::Column::HandoffProcess.eq("live"))
        .filter(conversation::Column::HumanReplied.eq(false))
        .filter(conversation::Column::AssignedAt.lte(deadline))
        .order_by_asc(conversation::Column::AssignedAt)
        .limit(200)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
        .map_err(backend)?;
    let mut moves = Vec::new();
    for row in rows {
        let Some(owner) = row.assignee_user_id.map(UserId) else {
            continue;
        };
        let route = route_of(db, &row, now).await?;
        let Some(chosen) = take_capacity(
            db,
            route,
            Some(owner),
            Mode::Live,
            strategy(row.route_strategy.as_deref()),
            now,
        )
        .await?
        else {
            continue;
        };
        release_capacity(db, owner).await?;
        give(db, ConversationId(row.id), chosen.user_id, now).await?;
        let rule = format!(
            "re-routed: user {owner} did not reply within {} s; {}",
            timeout.as_secs(),
            chosen.rule
        );
        audit(
            db,
            now,
            "rerouted",
            None,
            Some(ConversationId(row.id)),
            json!({"from_user_id": owner.0, "assignee_user_id": chosen.user_id.0, "rule": rule}),
        )
        .await?;
        moves.push(Assignment {
            conversation_id: ConversationId(row.id),
            user_id: chosen.user_id,
            waited_seconds: 0.0,
            rule,
        });
    }
    Ok(moves)
}

/// The periodic pass for what time alone changes: users whose working hours ended give
/// back their unanswered live conversations, and users whose hours began take from the
/// queue. Callers hold the routing lock.
pub(crate) async fn sweep_hours(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<Assignment>> {
    let off_hours = user::Entity::find()
        .filter(user::Column::WorkingHours.is_not_null())
        .filter(user::Column::OpenCount.gt(0))
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .filter(|u| u.availability == "available" && !available_at(u, now));
    for user in off_hours {
        requeue_unanswered(db, UserId(user.id), now).await?;
    }
    drain(db, now).await
}
