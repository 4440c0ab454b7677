//! Assignment as the database sees it: the pure plan from `baton-routing`, then one
//! conditional update per candidate until one succeeds.

use std::collections::HashSet;

use baton_core::decision::HandoffProcess;
use baton_core::ids::{ConversationId, UserId};
use baton_core::people::{Availability, Seat};
use baton_engine::model::Assignment;
use baton_routing::walk::key;
use baton_routing::{Candidate, Key, Mode, PageRequest, Skip, Strategy, Walk, ineligibility};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::convert::{micros, process, time, working_hours};
use crate::entity::{conversation, routing_cursor, user};
use crate::routes::{Filter, candidate, intern, page};
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

pub(crate) fn strategy(name: Option<&str>) -> Strategy {
    match name {
        Some("balanced") => Strategy::Balanced,
        _ => Strategy::RoundRobin,
    }
}

/// Most users an audit rule names per list.
const EXPLAIN: usize = 10;

/// Who the walk passed over before `chosen`, with why: the users the query filtered out
/// (read again, unfiltered and bounded) and the ones the walk itself skipped.
async fn passed_over(
    db: &impl ConnectionTrait,
    route_id: i64,
    walk: &Walk,
    cursor: Option<UserId>,
    chosen: &user::Model,
    now: DateTime<Utc>,
) -> Result<Vec<(UserId, Skip)>> {
    let strategy = walk.strategy();
    let chosen_key = key(strategy, &candidate(chosen, now));
    let ranges = match (strategy, cursor) {
        (Strategy::RoundRobin, Some(c)) if chosen.id <= c.0 => {
            vec![(Some(Key::Id(c)), None), (None, Some(chosen_key))]
        }
        (Strategy::RoundRobin, Some(c)) => vec![(Some(Key::Id(c)), Some(chosen_key))],
        _ => vec![(None, Some(chosen_key))],
    };
    let mut skipped: Vec<(UserId, Skip)> = Vec::new();
    for (after, until) in ranges {
        let request = PageRequest {
            after,
            until,
            limit: EXPLAIN + 1,
        };
        for row in page(db, route_id, strategy, Filter::NONE, request).await? {
            let candidate = candidate(&row, now);
            if let Some(skip) = ineligibility(&candidate, walk.mode()) {
                skipped.push((candidate.user_id, skip));
            }
        }
    }
    for (user, skip) in walk.skipped() {
        if !skipped.iter().any(|(u, _)| u == user) {
            skipped.push((*user, *skip));
        }
    }
    skipped.truncate(EXPLAIN);
    Ok(skipped)
}

fn describe(
    strategy: Strategy,
    cursor: Option<UserId>,
    chosen: UserId,
    also: &[UserId],
    skipped: &[(UserId, Skip)],
) -> String {
    let mut rule = match (strategy, cursor) {
        (Strategy::Balanced, _) => {
            format!("balanced (fewest open, then longest idle): user {chosen}")
        }
        (Strategy::RoundRobin, Some(c)) => format!("round robin after user {c}: user {chosen}"),
        (Strategy::RoundRobin, None) => format!("round robin from the start: user {chosen}"),
    };
    if !also.is_empty() {
        let others: Vec<String> = also.iter().take(EXPLAIN).map(ToString::to_string).collect();
        rule.push_str(&format!(" (next eligible: {})", others.join(", ")));
    }
    if !skipped.is_empty() {
        let skipped: Vec<String> = skipped
            .iter()
            .map(|(u, why)| format!("user {u} ({})", why.as_str()))
            .collect();
        rule.push_str(&format!("; passed over {}", skipped.join(", ")));
    }
    rule
}

/// Takes capacity from the next eligible user on route `route_id` (never `exclude`),
/// or returns `None` when nobody can take the conversation now. Reads the route a page
/// at a time in strategy order and stops at the first user whose conditional update
/// succeeds, so the cost does not grow with the route.
pub(crate) async fn take_capacity(
    db: &impl ConnectionTrait,
    route_id: i64,
    exclude: Option<UserId>,
    mode: Mode,
    strategy: Strategy,
    now: DateTime<Utc>,
) -> Result<Option<Chosen>> {
    let cursor = lock_routing(db).await?.map(UserId);
    let mut walk = Walk::new(strategy, cursor, mode);
    let mut lost: Vec<(UserId, Skip)> = Vec::new();
    while let Some(request) = walk.request() {
        let rows = page(db, route_id, strategy, Filter::walk(mode), request).await?;
        let candidates: Vec<Candidate> = rows.iter().map(|r| candidate(r, now)).collect();
        let order = walk.feed(&candidates);
        for (i, user_id) in order.iter().enumerate() {
            if Some(*user_id) == exclude {
                continue;
            }
            if !take_one(db, *user_id, mode, now).await? {
                // Another transaction filled them between the read and the update.
                lost.push((*user_id, Skip::AtCapacity));
                continue;
            }
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
            let mut skipped = match rows.iter().find(|r| r.id == user_id.0) {
                Some(row) => passed_over(db, route_id, &walk, cursor, row, now).await?,
                None => Vec::new(),
            };
            skipped.extend(lost);
            let also: Vec<UserId> = order[i + 1..]
                .iter()
                .copied()
                .filter(|u| Some(*u) != exclude)
                .collect();
            return Ok(Some(Chosen {
                user_id: *user_id,
                rule: describe(strategy, cursor, *user_id, &also, &skipped),
            }));
        }
    }
    Ok(None)
}

/// One conditional update: a unit of `user_id`'s capacity, if they still qualify (paid
/// seat, under capacity, and for `Mode::Live` available). Every path that assigns goes
/// through it.
pub(crate) async fn take_one(
    db: &impl ConnectionTrait,
    user_id: UserId,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut update = user::Entity::update_many()
        .col_expr(
            user::Column::OpenCount,
            Expr::col(user::Column::OpenCount).add(1),
        )
        .col_expr(user::Column::LastAssignedAt, Expr::value(micros(now)))
        .col_expr(user::Column::IdleSince, Expr::value(micros(now)))
        .filter(user::Column::Id.eq(user_id.0))
        .filter(user::Column::Seat.ne(Seat::None.as_str()))
        .filter(Expr::col(user::Column::OpenCount).lt(Expr::col(user::Column::Capacity)));
    if mode == Mode::Live {
        update = update.filter(user::Column::Availability.eq(Availability::Available.as_str()));
    }
    Ok(update.exec(db).await.map_err(backend)?.rows_affected == 1)
}

/// The route a conversation routes along: its interned route, or for a row handed off
/// before routes were interned, the route of its stored user list.
pub(crate) async fn route_of(
    db: &impl ConnectionTrait,
    row: &conversation::Model,
    now: DateTime<Utc>,
) -> Result<i64> {
    match row.route_id {
        Some(id) => Ok(id),
        None => Ok(
            intern(db, &parse_route(row.route_user_ids.as_deref()), &[], now)
                .await?
                .id,
        ),
    }
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
    let mut exhausted: HashSet<(i64, &str, String)> = HashSet::new();
    for row in queued {
        let Some(process_name) = row.handoff_process.clone() else {
            continue;
        };
        let handoff_mode = mode(process(&process_name)?);
        let route_strategy = strategy(row.route_strategy.as_deref());
        let route = route_of(db, &row, now).await?;
        let route_key = (route, route_strategy.as_str(), process_name);
        if exhausted.contains(&route_key) {
            continue;
        }
        let Some(chosen) =
            take_capacity(db, route, None, handoff_mode, route_strategy, now).await?
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
