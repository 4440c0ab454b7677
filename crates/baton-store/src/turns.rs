//! Conversations and their messages: visitor turns, claims, staff replies, closes.

use baton_core::decision::HandoffProcess;
use baton_core::ids::{ConversationId, MessageId, UserId};
use baton_core::settings::{Destination, FieldError};
use baton_engine::StoreError;
use baton_engine::model::{
    Assignment, Author, Conversation, HandedOff, HandoffOutcome, HandoffPlan, Message, Reply, Turn,
    TurnAction, TurnOutcome, View, Visitor,
};
use baton_ticketing::Activity;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set, SqlErr,
};
use serde_json::{Value, json};

use crate::convert::{self, micros};
use crate::entity::{audit as audit_event, conversation, message, outbox};
use crate::routes::anyone_available;
use crate::routing::{Chosen, drain, lock_routing, mode, release_capacity, take_capacity};
use crate::{Result, backend};

pub(crate) async fn audit(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    kind: &str,
    actor: Option<UserId>,
    conversation_id: Option<ConversationId>,
    detail: Value,
) -> Result<()> {
    audit_event::ActiveModel {
        at: Set(micros(now)),
        kind: Set(kind.to_owned()),
        actor_user_id: Set(actor.map(|a| a.0)),
        conversation_id: Set(conversation_id.map(|c| c.0)),
        detail: Set(detail.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    // Every transition is audited, so its webhook event is written here, in its
    // transaction.
    for event in crate::webhooks::audit_events(kind, &detail) {
        let data = crate::webhooks::audit_data(kind, actor, &detail);
        crate::webhooks::emit(db, event, conversation_id.map(|c| c.0), data, now).await?;
    }
    Ok(())
}

/// The conversation row, locked for the rest of the transaction on PostgreSQL so that
/// every writer of one conversation takes its turn.
pub(crate) async fn locked(
    db: &impl ConnectionTrait,
    id: ConversationId,
) -> Result<conversation::Model> {
    conversation::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "conversation",
            id: id.0,
        })
}

pub(crate) struct NewMessage<'a> {
    pub(crate) conversation: &'a conversation::Model,
    pub(crate) author: Author,
    pub(crate) author_user_id: Option<UserId>,
    pub(crate) text: &'a str,
    pub(crate) client_message_id: Option<&'a str>,
    pub(crate) reply_to: Option<MessageId>,
    /// Outgoing messages go through the outbox, written in the same transaction.
    pub(crate) outgoing: bool,
}

/// A system message to the visitor (handoff and workflow messages), sent through the
/// outbox.
pub(crate) async fn system_message(
    db: &impl ConnectionTrait,
    conversation: &conversation::Model,
    text: &str,
    reply_to: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<Message> {
    insert_message(
        db,
        NewMessage {
            conversation,
            author: Author::System,
            author_user_id: None,
            text,
            client_message_id: None,
            reply_to,
            outgoing: true,
        },
        now,
    )
    .await
    .map_err(backend)
}

pub(crate) async fn insert_message(
    db: &impl ConnectionTrait,
    new: NewMessage<'_>,
    now: DateTime<Utc>,
) -> std::result::Result<Message, sea_orm::DbErr> {
    let row = message::ActiveModel {
        conversation_id: Set(new.conversation.id),
        author: Set(new.author.as_str().to_owned()),
        author_user_id: Set(new.author_user_id.map(|u| u.0)),
        text: Set(new.text.to_owned()),
        client_message_id: Set(new.client_message_id.map(str::to_owned)),
        reply_to: Set(new.reply_to.map(|m| m.0)),
        created_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    crate::webhooks::emit(
        db,
        "message.created",
        Some(new.conversation.id),
        crate::webhooks::message_data(&row),
        now,
    )
    .await
    .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    if new.outgoing {
        outbox::ActiveModel {
            conversation_id: Set(new.conversation.id),
            message_id: Set(row.id),
            channel: Set(new.conversation.channel.clone()),
            attempts: Set(0),
            created_at: Set(micros(now)),
            delivered_at: Set(None),
            retry_at: Set(None),
            failed_at: Set(None),
            last_error: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    convert::message(row).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))
}

pub(crate) async fn create_conversation(
    db: &impl ConnectionTrait,
    channel: &str,
    visitor: Visitor,
    token_hash: &str,
    previous: Option<ConversationId>,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    let row = conversation::ActiveModel {
        channel: Set(channel.to_owned()),
        status: Set("open".into()),
        assignee_kind: Set("agent".into()),
        assignee_user_id: Set(None),
        visitor_name: Set(visitor.name),
        visitor_email: Set(visitor.email),
        visitor_token_hash: Set(token_hash.to_owned()),
        inbox_id: Set(None),
        handoff_trigger: Set(None),
        handoff_matched: Set(None),
        handoff_process: Set(None),
        handoff_at: Set(None),
        handoff_summary: Set(None),
        queued: Set(false),
        route_user_ids: Set(None),
        route_id: Set(None),
        thread: Set(None),
        route_strategy: Set(None),
        human_replied: Set(false),
        assigned_at: Set(None),
        ticket_id: Set(None),
        previous_conversation_id: Set(previous.map(|id| id.0)),
        created_at: Set(micros(now)),
        updated_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    crate::webhooks::emit(
        db,
        "conversation.created",
        Some(row.id),
        json!({"channel": channel, "previous_conversation_id": previous.map(|p| p.0)}),
        now,
    )
    .await?;
    convert::conversation(row)
}

pub(crate) async fn get(db: &impl ConnectionTrait, id: ConversationId) -> Result<Conversation> {
    convert::conversation(
        conversation::Entity::find_by_id(id.0)
            .one(db)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound {
                what: "conversation",
                id: id.0,
            })?,
    )
}

pub(crate) async fn list(
    db: &impl ConnectionTrait,
    view: View,
    after: Option<ConversationId>,
    limit: u64,
) -> Result<Vec<Conversation>> {
    use conversation::Column as C;
    let query = conversation::Entity::find();
    // Each order is an index's (`conversations_unassigned`, `conversations_assignee_id`,
    // `conversations_status_id`, the primary key), so a page is a range read.
    let query = match view {
        View::Unassigned => {
            let query = query
                .filter(C::Status.eq("open"))
                .filter(C::AssigneeKind.eq("none"));
            let query = match after {
                None => query,
                Some(after) => {
                    // The cursor's place in the order: one primary-key read.
                    let at = conversation::Entity::find_by_id(after.0)
                        .one(db)
                        .await
                        .map_err(backend)?
                        .and_then(|c| c.handoff_at);
                    match at {
                        // A row comparison: both backends read it as one index range.
                        Some(at) => query.filter(sea_orm::sea_query::ExprTrait::gt(
                            Expr::tuple([
                                Expr::col((conversation::Entity, C::HandoffAt)),
                                Expr::col((conversation::Entity, C::Id)),
                            ]),
                            Expr::tuple([Expr::value(at), Expr::value(after.0)]),
                        )),
                        None => query.filter(C::Id.gt(after.0)),
                    }
                }
            };
            query.order_by_asc(C::HandoffAt).order_by_asc(C::Id)
        }
        View::Mine(user) => query
            .filter(C::Status.eq("open"))
            .filter(C::AssigneeUserId.eq(user.0))
            .apply_if(after, |q, after| q.filter(C::Id.gt(after.0)))
            .order_by_asc(C::Id),
        View::Open => query
            .filter(C::Status.eq("open"))
            .apply_if(after, |q, after| q.filter(C::Id.lt(after.0)))
            .order_by_desc(C::Id),
        View::All => query
            .apply_if(after, |q, after| q.filter(C::Id.lt(after.0)))
            .order_by_desc(C::Id),
    };
    query
        .limit(limit)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(convert::conversation)
        .collect()
}

pub(crate) async fn messages(
    db: &impl ConnectionTrait,
    id: ConversationId,
    after: Option<MessageId>,
) -> Result<Vec<Message>> {
    let mut query = message::Entity::find().filter(message::Column::ConversationId.eq(id.0));
    if let Some(after) = after {
        query = query.filter(message::Column::Id.gt(after.0));
    }
    query
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(convert::message)
        .collect()
}

pub(crate) async fn replay(
    db: &impl ConnectionTrait,
    id: ConversationId,
    client_message_id: &str,
) -> Result<Option<Vec<Reply>>> {
    let Some(first) = message::Entity::find()
        .filter(message::Column::ConversationId.eq(id.0))
        .filter(message::Column::ClientMessageId.eq(client_message_id))
        .one(db)
        .await
        .map_err(backend)?
    else {
        return Ok(None);
    };
    let replies = message::Entity::find()
        .filter(message::Column::ReplyTo.eq(first.id))
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(|m| {
            Ok(Reply {
                author: convert::author(&m.author)?,
                text: m.text,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(replies))
}

/// Stores a visitor message and what was decided for it. `Err(None)` means the client
/// message id is already stored (a concurrent repeat): the caller rolls back and replays.
pub(crate) async fn commit_turn(
    db: &impl ConnectionTrait,
    turn: Turn,
) -> std::result::Result<TurnOutcome, Option<StoreError>> {
    let now = turn.now;
    let row = locked(db, turn.conversation_id).await.map_err(Some)?;
    if row.status != "open" {
        // A repeat of a message stored before the close gets its first answer, as on an
        // open conversation: the client only retried what it was not sure had arrived.
        if let Some(key) = turn.client_message_id.as_deref()
            && let Some(replies) = replay(db, turn.conversation_id, key).await.map_err(Some)?
        {
            return Ok(TurnOutcome::Duplicate { replies });
        }
        return Err(Some(StoreError::Conflict(
            "the conversation is closed; start a new one".into(),
        )));
    }
    let visitor_message = match insert_message(
        db,
        NewMessage {
            conversation: &row,
            author: Author::Visitor,
            author_user_id: None,
            text: &turn.text,
            client_message_id: turn.client_message_id.as_deref(),
            reply_to: None,
            outgoing: false,
        },
        now,
    )
    .await
    {
        Ok(message) => message,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(None);
        }
        Err(e) => return Err(Some(backend(e))),
    };
    // The decision was made on a snapshot: if a human took the conversation since, the
    // agent stays silent.
    let action = if row.assignee_kind == "agent" {
        turn.action
    } else {
        crate::tickets::record(db, turn.conversation_id, Activity::VisitorWrote, now)
            .await
            .map_err(Some)?;
        TurnAction::Store
    };
    let mut replies = Vec::new();
    let mut handoff = None;
    match action {
        TurnAction::Store => {}
        TurnAction::Reply(text) => {
            let message = insert_message(
                db,
                NewMessage {
                    conversation: &row,
                    author: Author::Agent,
                    author_user_id: None,
                    text: &text,
                    client_message_id: None,
                    reply_to: Some(visitor_message.id),
                    outgoing: true,
                },
                now,
            )
            .await
            .map_err(|e| Some(backend(e)))?;
            replies.push(message);
        }
        TurnAction::Handoff(plan) => {
            let (message, outcome) = hand_off(db, &row, &plan, Some(visitor_message.id), now)
                .await
                .map_err(Some)?;
            replies.push(message);
            handoff = Some(outcome);
        }
    }
    conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
        .filter(conversation::Column::Id.eq(row.id))
        .exec(db)
        .await
        .map_err(|e| Some(backend(e)))?;
    Ok(TurnOutcome::Stored {
        visitor_message,
        replies,
        handoff,
    })
}

/// The handoff record every destination writes on the conversation (B5, B6): where it
/// went, why, how, when, and the summary. Callers add who holds it.
pub(crate) fn handoff_record(
    id: i64,
    plan: &HandoffPlan,
    inbox_id: i64,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<conversation::Entity> {
    conversation::Entity::update_many()
        .col_expr(conversation::Column::InboxId, Expr::value(inbox_id))
        .col_expr(
            conversation::Column::HandoffTrigger,
            Expr::value(plan.trigger.kind()),
        )
        .col_expr(
            conversation::Column::HandoffMatched,
            Expr::value(plan.trigger.matched().map(str::to_owned)),
        )
        .col_expr(
            conversation::Column::HandoffProcess,
            Expr::value(plan.process.as_str()),
        )
        .col_expr(conversation::Column::HandoffAt, Expr::value(micros(now)))
        .col_expr(
            conversation::Column::HandoffSummary,
            Expr::value(plan.summary.clone()),
        )
        .filter(conversation::Column::Id.eq(id))
}

/// Hands `row` off under `plan`: routing or the queue (or a workflow), the ticket, the
/// available/unavailable message answering `visitor_message` (none when the visitor
/// chose a person without writing), and the audit row.
async fn hand_off(
    db: &impl ConnectionTrait,
    row: &conversation::Model,
    plan: &HandoffPlan,
    visitor_message: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<(Message, HandoffOutcome)> {
    if let Some(Destination::Workflow { workflow_id }) = &plan.settings.destination {
        return crate::runs::hand_off_to_workflow(
            db,
            row,
            plan,
            *workflow_id,
            visitor_message,
            now,
        )
        .await;
    }
    let Some(Destination::UsersAndTeams {
        inbox_id,
        user_ids,
        team_ids,
        strategy,
    }) = &plan.settings.destination
    else {
        return Err(FieldError::new(
            "destination",
            "the settings name no users_and_teams destination for this handoff",
        )
        .into());
    };
    let route = crate::routes::intern(db, user_ids, team_ids, now).await?;
    let chosen: Option<Chosen> =
        take_capacity(db, route.id, None, mode(plan.process), *strategy, now).await?;
    let available = match plan.process {
        HandoffProcess::Live => chosen.is_some(),
        HandoffProcess::Async => anyone_available(db, route.id, now).await?,
    };
    handoff_record(row.id, plan, inbox_id.0, now)
        .col_expr(
            conversation::Column::AssigneeKind,
            Expr::value(if chosen.is_some() { "user" } else { "none" }),
        )
        .col_expr(
            conversation::Column::AssigneeUserId,
            Expr::value(chosen.as_ref().map(|c| c.user_id.0)),
        )
        .col_expr(
            conversation::Column::AssignedAt,
            Expr::value(chosen.as_ref().map(|_| micros(now))),
        )
        .col_expr(conversation::Column::Queued, Expr::value(chosen.is_none()))
        .col_expr(conversation::Column::RouteId, Expr::value(route.id))
        .col_expr(
            conversation::Column::RouteStrategy,
            Expr::value(strategy.as_str()),
        )
        .exec(db)
        .await
        .map_err(backend)?;
    let ticket = crate::tickets::create_for_handoff(db, row, *inbox_id, team_ids, now).await?;
    let text = if available {
        &plan.settings.messages.available
    } else {
        &plan.settings.messages.unavailable
    };
    let message = system_message(db, row, text, visitor_message, now).await?;
    let span = plan.trigger.span().map(|s| json!([s.start, s.end]));
    audit(
        db,
        now,
        "handoff",
        None,
        Some(ConversationId(row.id)),
        json!({
            "reason": {
                "kind": plan.trigger.kind(),
                "matched": plan.trigger.matched(),
                "byte_span": span,
            },
            "process": plan.process.as_str(),
            "assignee_user_id": chosen.as_ref().map(|c| c.user_id.0),
            "queued": chosen.is_none(),
            "rule": chosen.as_ref().map_or_else(
                || format!("nobody eligible among {} candidate(s): queued", route.members),
                |c| c.rule.clone(),
            ),
            "explanation": plan.explanation,
            "settings_version": plan.settings_version,
            "ticket_id": ticket.map(|t| t.0),
        }),
    )
    .await?;
    let assignment = chosen.map(|c| Assignment {
        conversation_id: ConversationId(row.id),
        user_id: c.user_id,
        waited_seconds: 0.0,
        rule: c.rule,
    });
    Ok((
        message,
        HandoffOutcome {
            trigger_kind: plan.trigger.kind(),
            process: plan.process,
            assignment,
        },
    ))
}

/// A handoff with no visitor message (the visitor chose a person, B16): the same
/// [`hand_off`] as a turn's, on the locked row. `None` when the customer agent no longer
/// holds the conversation: humans have it or it waits for them, and nothing is written.
pub(crate) async fn hand_off_by_choice(
    db: &impl ConnectionTrait,
    id: ConversationId,
    plan: &HandoffPlan,
    now: DateTime<Utc>,
) -> Result<Option<HandedOff>> {
    let row = locked(db, id).await?;
    if row.status != "open" {
        return Err(StoreError::Conflict(
            "the conversation is closed; start a new one".into(),
        ));
    }
    if row.assignee_kind != "agent" {
        return Ok(None);
    }
    let (message, outcome) = hand_off(db, &row, plan, None, now).await?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
        .filter(conversation::Column::Id.eq(row.id))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(Some(HandedOff { message, outcome }))
}

pub(crate) async fn staff_reply(
    db: &impl ConnectionTrait,
    id: ConversationId,
    user: UserId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Message> {
    let row = locked(db, id).await?;
    if row.status != "open" {
        return Err(StoreError::Conflict("the conversation is closed".into()));
    }
    if row.assignee_user_id != Some(user.0) {
        return Err(StoreError::Conflict(
            "only the assignee replies; claim the conversation first".into(),
        ));
    }
    crate::tickets::record(db, id, Activity::HumanReplied, now).await?;
    // A human answered: from now on the conversation is theirs even if they go away.
    conversation::Entity::update_many()
        .col_expr(conversation::Column::HumanReplied, Expr::value(true))
        .filter(conversation::Column::Id.eq(id.0))
        .exec(db)
        .await
        .map_err(backend)?;
    insert_message(
        db,
        NewMessage {
            conversation: &row,
            author: Author::User,
            author_user_id: Some(user),
            text,
            client_message_id: None,
            reply_to: None,
            outgoing: true,
        },
        now,
    )
    .await
    .map_err(backend)
}

pub(crate) async fn close(
    db: &impl ConnectionTrait,
    id: ConversationId,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(Conversation, Vec<Assignment>)> {
    let row = locked(db, id).await?;
    if row.status == "closed" {
        return Ok((convert::conversation(row)?, Vec::new()));
    }
    lock_routing(db).await?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::Status, Expr::value("closed"))
        .col_expr(conversation::Column::Queued, Expr::value(false))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
        .filter(conversation::Column::Id.eq(id.0))
        .exec(db)
        .await
        .map_err(backend)?;
    if let (true, Some(holder)) = (row.assignee_kind == "user", row.assignee_user_id) {
        release_capacity(db, UserId(holder)).await?;
    }
    crate::tickets::record(db, id, Activity::Closed, now).await?;
    // The assignee is recorded so that replaying the log reproduces every user's load.
    let released = (row.assignee_kind == "user")
        .then_some(row.assignee_user_id)
        .flatten();
    audit(
        db,
        now,
        "closed",
        Some(actor),
        Some(id),
        json!({"released_user_id": released}),
    )
    .await?;
    let assignments = drain(db, now).await?;
    Ok((get(db, id).await?, assignments))
}

pub(crate) async fn queue_length(db: &impl ConnectionTrait) -> Result<u64> {
    conversation::Entity::find()
        .filter(conversation::Column::Queued.eq(true))
        .filter(conversation::Column::Status.eq("open"))
        .count(db)
        .await
        .map_err(backend)
}

/// The literal conditions of the queue, written exactly as the partial index
/// `conversations_queue_position` states them: a planner only uses a partial index for a
/// query whose terms imply the index's, and a bound parameter implies nothing.
pub(crate) const QUEUED: &str = "conversations.queued = TRUE AND conversations.status = 'open'";

/// A queued conversation's 1-based place in the queue, in the order [`drain`] takes it
/// (handoff time, then id): one count over the partial index of the queue, reading only
/// the entries before it. `None` when the conversation is not queued.
pub(crate) async fn queue_position(
    db: &impl ConnectionTrait,
    id: ConversationId,
) -> Result<Option<u64>> {
    let row = conversation::Entity::find_by_id(id.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "conversation",
            id: id.0,
        })?;
    if !row.queued || row.status != "open" {
        return Ok(None);
    }
    // A queued row always has its handoff time: the handoff that queued it wrote both.
    let at = row.handoff_at.unwrap_or(i64::MIN);
    let statement = queue_position_query(db.get_database_backend(), at, row.id);
    let count = db
        .query_one_raw(statement)
        .await
        .map_err(backend)?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()
        .map_err(backend)?
        .unwrap_or(0);
    Ok(Some(u64::try_from(count).unwrap_or(0) + 1))
}

/// `SELECT COUNT(*)` of the queued conversations ahead of (`handoff_at`, `id`). SQLite
/// is told the index (without statistics its planner prefers the older
/// `conversations_queue`, which is not covering and reads every row ahead); PostgreSQL
/// finds it from the conditions.
fn queue_position_query(backend: sea_orm::DbBackend, at: i64, id: i64) -> sea_orm::Statement {
    let (indexed, first, second) = match backend {
        sea_orm::DbBackend::Sqlite => (" INDEXED BY conversations_queue_position", "?", "?"),
        _ => ("", "$1", "$2"),
    };
    sea_orm::Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT COUNT(*) FROM conversations{indexed} WHERE {QUEUED} \
             AND (conversations.handoff_at, conversations.id) < ({first}, {second})"
        ),
        [at.into(), id.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeaStore;

    /// The position is a count on the queue's partial index, never a scan of the
    /// conversations: the query's terms imply the index's conditions, so the planner can
    /// use it (SQLite: a covering index; PostgreSQL, when `BATON_TEST_POSTGRES_URL` is
    /// set: with sequential scans off, the plan names the index — which it could not if
    /// the index's conditions did not follow from the query's).
    #[tokio::test]
    async fn the_queue_position_is_counted_on_the_partial_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/baton.db?mode=rwc", dir.path().display());
        let store = SeaStore::connect(&url, None).await.expect("sqlite");
        let db = store.connection();
        let mut statement = queue_position_query(db.get_database_backend(), 42, 7);
        statement.sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
        let plan: Vec<String> = db
            .query_all_raw(statement)
            .await
            .expect("plan")
            .iter()
            .map(|row| row.try_get_by_index::<String>(3).expect("detail"))
            .collect();
        assert!(
            plan.iter()
                .any(|line| line.contains("COVERING INDEX conversations_queue_position")),
            "{plan:?}"
        );

        let Ok(url) = std::env::var("BATON_TEST_POSTGRES_URL") else {
            return;
        };
        use sea_orm::TransactionTrait;
        let schema = format!(
            "queue_plan_{}_{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        );
        let store = SeaStore::connect(&url, Some(&schema))
            .await
            .expect("postgres");
        let db = store.connection();
        let txn = db.begin().await.expect("begin");
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .expect("set");
        let mut statement = queue_position_query(db.get_database_backend(), 42, 7);
        statement.sql = format!("EXPLAIN {}", statement.sql);
        let plan: Vec<String> = txn
            .query_all_raw(statement)
            .await
            .expect("plan")
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("line"))
            .collect();
        drop(txn);
        db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await
            .expect("drop schema");
        assert!(
            plan.iter()
                .any(|line| line.contains("Index Only Scan using conversations_queue_position")),
            "{plan:?}"
        );
    }
}
