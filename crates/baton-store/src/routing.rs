//! Assignment as the database sees it: the pure plan from `baton-routing`, then one
//! conditional update per candidate until one succeeds.

use std::collections::HashSet;

use baton_core::decision::HandoffProcess;
use baton_core::ids::{ConversationId, UserId};
use baton_core::people::{Availability, Seat};
use baton_engine::model::Assignment;
use baton_routing::{Candidate, Mode, Plan, Strategy, plan};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::convert::{micros, process, time, working_hours};
use crate::entity::{conversation, routing_cursor, user};
use crate::turns::audit;
use crate::{Result, backend};

/// One cursor for handoff routing: round robin walks user ids in order, so a single
/// cursor stays fair when the destination changes. Its row is also the routing lock:
/// every transaction that moves capacity locks it first, so transactions on several
/// hosts take their locks in one order and cannot deadlock.
pub(crate) const CURSOR: &str = "handoff";

/// Takes the routing lock (PostgreSQL; SQLite has one writer) and returns the cursor:
/// the last user assigned, if any.
pub(crate) async fn lock_routing(db: &impl ConnectionTrait) -> Result<Option<i64>> {
    Ok(routing_cursor::Entity::find_by_id(CURSOR)
        .lock_exclusive()
        .one(db)
        .await
        .map_err(backend)?
        .map(|c| c.last_user_id)
        .filter(|id| *id > 0))
}

/// Creates the cursor row (last user 0 = none) so that there is always a row to lock.
pub(crate) async fn ensure_cursor(db: &impl ConnectionTrait) -> Result<()> {
    routing_cursor::Entity::insert(routing_cursor::ActiveModel {
        key: Set(CURSOR.to_owned()),
        last_user_id: Set(0),
    })
    .on_conflict_do_nothing_on([routing_cursor::Column::Key])
    .exec(db)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn mode(process: HandoffProcess) -> Mode {
    match process {
        HandoffProcess::Live => Mode::Live,
        HandoffProcess::Async => Mode::Async,
    }
}

/// The chosen user and a sentence saying why (B5).
pub(crate) struct Chosen {
    pub(crate) user_id: UserId,
    pub(crate) rule: String,
}

/// Whether a user row counts as available at `now`: the manual switch, and working
/// hours when the user has them. Unreadable hours count as always (logged).
pub(crate) fn available_at(row: &user::Model, now: DateTime<Utc>) -> bool {
    if row.availability != Availability::Available.as_str() {
        return false;
    }
    match row.working_hours.as_deref().map(working_hours) {
        None => true,
        Some(Ok(hours)) => hours.contains(now),
        Some(Err(error)) => {
            tracing::warn!(user = row.id, %error, "ignoring unreadable working hours");
            true
        }
    }
}

async fn candidates(
    db: &impl ConnectionTrait,
    route: &[UserId],
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>> {
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(route.iter().map(|u| u.0)))
        .all(db)
        .await
        .map_err(backend)?;
    Ok(rows
        .into_iter()
        .map(|u| Candidate {
            user_id: UserId(u.id),
            paid_seat: u.seat.parse::<Seat>().is_ok_and(Seat::is_paid),
            available: available_at(&u, now),
            open_conversations: u32::try_from(u.open_count).unwrap_or(u32::MAX),
            capacity: u32::try_from(u.capacity).unwrap_or(0),
            last_assigned_at: u.last_assigned_at,
        })
        .collect())
}

/// Whether anyone on the route could answer now (chooses the visitor message).
pub(crate) async fn anyone_available(
    db: &impl ConnectionTrait,
    route: &[UserId],
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(candidates(db, route, now)
        .await?
        .iter()
        .any(|c| c.paid_seat && c.available))
}

pub(crate) fn strategy(name: Option<&str>) -> Strategy {
    match name {
        Some("balanced") => Strategy::Balanced,
        _ => Strategy::RoundRobin,
    }
}

fn describe(strategy: Strategy, plan: &Plan, cursor: Option<i64>, chosen: UserId) -> String {
    let mut rule = match (strategy, cursor) {
        (Strategy::Balanced, _) => {
            format!("balanced (fewest open, then longest idle): user {chosen}")
        }
        (Strategy::RoundRobin, Some(c)) => format!("round robin after user {c}: user {chosen}"),
        (Strategy::RoundRobin, None) => format!("round robin from the start: user {chosen}"),
    };
    if plan.order.len() > 1 {
        let others: Vec<String> = plan
            .order
            .iter()
            .filter(|u| **u != chosen)
            .map(ToString::to_string)
            .collect();
        rule.push_str(&format!(" (also eligible: {})", others.join(", ")));
    }
    if !plan.skipped.is_empty() {
        let skipped: Vec<String> = plan
            .skipped
            .iter()
            .map(|(u, why)| format!("user {u} ({})", why.as_str()))
            .collect();
        rule.push_str(&format!("; skipped {}", skipped.join(", ")));
    }
    rule
}

/// Takes capacity from the next eligible user on `route`, or returns `None` when nobody
/// can take the conversation now.
pub(crate) async fn take_capacity(
    db: &impl ConnectionTrait,
    route: &[UserId],
    mode: Mode,
    strategy: Strategy,
    now: DateTime<Utc>,
) -> Result<Option<Chosen>> {
    if route.is_empty() {
        return Ok(None);
    }
    let cursor = lock_routing(db).await?;
    let candidates = candidates(db, route, now).await?;
    let plan = plan(strategy, &candidates, cursor.map(UserId), mode);
    for user_id in &plan.order {
        let mut update = user::Entity::update_many()
            .col_expr(
                user::Column::OpenCount,
                Expr::col(user::Column::OpenCount).add(1),
            )
            .col_expr(user::Column::LastAssignedAt, Expr::value(micros(now)))
            .filter(user::Column::Id.eq(user_id.0))
            .filter(user::Column::Seat.ne(Seat::None.as_str()))
            .filter(Expr::col(user::Column::OpenCount).lt(Expr::col(user::Column::Capacity)));
        if mode == Mode::Live {
            update = update.filter(user::Column::Availability.eq(Availability::Available.as_str()));
        }
        if update.exec(db).await.map_err(backend)?.rows_affected == 1 {
            routing_cursor::Entity::insert(routing_cursor::ActiveModel {
                key: Set(CURSOR.to_owned()),
                last_user_id: Set(user_id.0),
            })
            .on_conflict(
                OnConflict::column(routing_cursor::Column::Key)
                    .update_column(routing_cursor::Column::LastUserId)
                    .to_owned(),
            )
            .exec(db)
            .await
            .map_err(backend)?;
            return Ok(Some(Chosen {
                user_id: *user_id,
                rule: describe(strategy, &plan, cursor, *user_id),
            }));
        }
    }
    Ok(None)
}

/// Gives conversation `id` to `user`: the row change every assignment path shares
/// (routing, the queue, claims, workflows, re-routing). Capacity is the caller's.
pub(crate) async fn give(
    db: &impl ConnectionTrait,
    id: ConversationId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<()> {
    conversation::Entity::update_many()
        .col_expr(conversation::Column::AssigneeKind, Expr::value("user"))
        .col_expr(conversation::Column::AssigneeUserId, Expr::value(user.0))
        .col_expr(conversation::Column::Queued, Expr::value(false))
        .col_expr(conversation::Column::AssignedAt, Expr::value(micros(now)))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
        .filter(conversation::Column::Id.eq(id.0))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Gives back one unit of capacity (a conversation closed or returned to the queue).
/// Callers hold the routing lock.
pub(crate) async fn release_capacity(db: &impl ConnectionTrait, user_id: UserId) -> Result<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::OpenCount,
            Expr::col(user::Column::OpenCount).sub(1),
        )
        .filter(user::Column::Id.eq(user_id.0))
        .filter(user::Column::OpenCount.gt(0))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn parse_route(route: Option<&str>) -> Vec<UserId> {
    route
        .and_then(|r| serde_json::from_str::<Vec<i64>>(r).ok())
        .unwrap_or_default()
        .into_iter()
        .map(UserId)
        .collect()
}

/// Assigns waiting conversations, oldest handoff first, for as long as someone can take
/// them. Called in the transaction of every change that frees capacity or brings a user
/// back, after [`lock_routing`].
pub(crate) async fn drain(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<Assignment>> {
    // Rows another host is draining right now are skipped, not waited for.
    let queued = conversation::Entity::find()
        .filter(conversation::Column::Queued.eq(true))
        .filter(conversation::Column::Status.eq("open"))
        .order_by_asc(conversation::Column::HandoffAt)
        .order_by_asc(conversation::Column::Id)
        .limit(500)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
        .map_err(backend)?;
    let mut assignments = Vec::new();
    // Conversations with the same route and mode compete for the same users: once one
    // finds nobody, the rest of them would too.
    let mut exhausted: HashSet<(String, String)> = HashSet::new();
    for row in queued {
        let Some(process_name) = row.handoff_process.clone() else {
            continue;
        };
        let handoff_mode = mode(process(&process_name)?);
        let route_strategy = strategy(row.route_strategy.as_deref());
        let route_key = (
            format!(
                "{}/{}",
                row.route_user_ids.as_deref().unwrap_or_default(),
                route_strategy.as_str()
            ),
            process_name,
        );
        if exhausted.contains(&route_key) {
            continue;
        }
        let route = parse_route(row.route_user_ids.as_deref());
        let Some(chosen) = take_capacity(db, &route, handoff_mode, route_strategy, now).await?
        else {
            exhausted.insert(route_key);
            continue;
        };
        give(db, ConversationId(row.id), chosen.user_id, now).await?;
        let waited = row
            .handoff_at
            .map(|at| (now - time(at)).num_microseconds().unwrap_or(0) as f64 / 1e6)
            .unwrap_or(0.0);
        let rule = format!("queue (oldest first): {}", chosen.rule);
        audit(
            db,
            now,
            "assignment",
            None,
            Some(ConversationId(row.id)),
            json!({"assignee_user_id": chosen.user_id.0, "rule": rule, "waited_seconds": waited}),
        )
        .await?;
        assignments.push(Assignment {
            conversation_id: ConversationId(row.id),
            user_id: chosen.user_id,
            waited_seconds: waited,
            rule,
        });
    }
    Ok(assignments)
}
