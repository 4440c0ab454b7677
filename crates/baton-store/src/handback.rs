//! The way back to the customer agent (B14): a handback frees the human's capacity (the
//! queue drains into it) or takes the conversation out of the queue; a reopen opens a
//! closed conversation again. Both hold the conversation row first, then the routing
//! lock, then user rows — the order every other transition takes.

use baton_core::ids::{ConversationId, UserId};
use baton_engine::StoreError;
use baton_engine::model::{Assignee, Conversation, Handback, HandedBack};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::convert::micros;
use crate::entity::conversation;
use crate::routing::{drain, lock_routing, release_capacity};
use crate::turns::{audit, get, locked, system_message};
use crate::{Result, backend};

fn assignee_of(row: &conversation::Model) -> Assignee {
    match (row.assignee_kind.as_str(), row.assignee_user_id) {
        ("agent", _) => Assignee::Agent,
        ("user", Some(user)) => Assignee::User(UserId(user)),
        _ => Assignee::None,
    }
}

fn describe(assignee: Assignee) -> String {
    match assignee {
        Assignee::Agent => "the customer agent".into(),
        Assignee::User(user) => format!("user {user}"),
        Assignee::None => "nobody (it waits for a human)".into(),
    }
}

/// The row change that gives a conversation to the customer agent: out of the queue,
/// no human, and a fresh start for the re-routing clock of a later handoff.
fn to_agent(id: ConversationId, now: DateTime<Utc>) -> sea_orm::UpdateMany<conversation::Entity> {
    conversation::Entity::update_many()
        .col_expr(conversation::Column::AssigneeKind, Expr::value("agent"))
        .col_expr(
            conversation::Column::AssigneeUserId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(conversation::Column::Queued, Expr::value(false))
        .col_expr(
            conversation::Column::AssignedAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(conversation::Column::HumanReplied, Expr::value(false))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
        .filter(conversation::Column::Id.eq(id.0))
}

pub(crate) async fn hand_back(db: &impl ConnectionTrait, handback: Handback) -> Result<HandedBack> {
    let Handback {
        conversation_id: id,
        reason,
        actor,
        expected,
        text,
        now,
    } = handback;
    let row = locked(db, id).await?;
    if row.status != "open" {
        return Err(StoreError::Conflict(
            "the conversation is closed; reopen it first".into(),
        ));
    }
    let current = assignee_of(&row);
    if let Some(expected) = expected
        && expected != current
    {
        return Err(StoreError::Conflict(format!(
            "the conversation moved meanwhile: {} holds it now",
            describe(current)
        )));
    }
    if current == Assignee::Agent {
        return Ok(HandedBack {
            conversation: crate::convert::conversation(row)?,
            message: None,
            from_user: None,
            assignments: Vec::new(),
        });
    }
    lock_routing(db).await?;
    to_agent(id, now).exec(db).await.map_err(backend)?;
    let from_user = match current {
        Assignee::User(user) => {
            release_capacity(db, user).await?;
            Some(user)
        }
        Assignee::Agent | Assignee::None => None,
    };
    let runs_ended = crate::runs::end_runs(db, id, now).await?;
    let message = system_message(db, &row, &text, None, now).await?;
    audit(
        db,
        now,
        "handed_back",
        actor,
        Some(id),
        json!({
            "reason": reason.as_str(),
            "from_user_id": from_user.map(|u| u.0),
            "was_queued": row.queued,
            "workflow_runs_ended": runs_ended,
        }),
    )
    .await?;
    // Capacity the human held goes to the queue; a conversation leaving the queue frees
    // none.
    let assignments = match from_user {
        Some(_) => drain(db, now).await?,
        None => Vec::new(),
    };
    Ok(HandedBack {
        conversation: get(db, id).await?,
        message: Some(message),
        from_user,
        assignments,
    })
}

pub(crate) async fn reopen(
    db: &impl ConnectionTrait,
    id: ConversationId,
    actor: UserId,
    notice: &str,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    let row = locked(db, id).await?;
    if row.status == "open" {
        return Err(StoreError::Conflict("the conversation is open".into()));
    }
    // A close released any capacity and left the queue: nothing to give back here.
    to_agent(id, now)
        .col_expr(conversation::Column::Status, Expr::value("open"))
        .exec(db)
        .await
        .map_err(backend)?;
    crate::runs::end_runs(db, id, now).await?;
    crate::tickets::record(db, id, baton_ticketing::Activity::Reopened, now).await?;
    // The visitor (on any channel) learns the conversation carries on.
    let reopened = locked(db, id).await?;
    system_message(db, &reopened, notice, None, now).await?;
    audit(
        db,
        now,
        "reopened",
        Some(actor),
        Some(id),
        json!({"assignee": "agent", "previous_assignee_user_id": row.assignee_user_id}),
    )
    .await?;
    get(db, id).await
}
