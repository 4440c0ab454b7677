//! Help-desk tickets, kept in step with their conversations inside the same
//! transactions (the rules are `baton-ticketing`'s).

use baton_core::ids::{ConversationId, InboxId, TeamId, TicketId, UserId};
use baton_engine::StoreError;
use baton_engine::model::Ticket;
use baton_ticketing::{Activity, Status, draft_for_handoff, next_status};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::convert::micros;
use crate::entity::{conversation, inbox, ticket};
use crate::{Result, backend};

/// Creates the ticket a handoff to `inbox_id` calls for (help desks only) and links it to
/// the conversation. Returns its id.
pub(crate) async fn create_for_handoff(
    db: &impl ConnectionTrait,
    conversation: &conversation::Model,
    inbox_id: InboxId,
    team_ids: &[TeamId],
    now: DateTime<Utc>,
) -> Result<Option<TicketId>> {
    if conversation.ticket_id.is_some() {
        return Ok(conversation.ticket_id.map(TicketId));
    }
    let help_desk = inbox::Entity::find_by_id(inbox_id.0)
        .one(db)
        .await
        .map_err(backend)?
        .is_some_and(|i| i.kind == "help_desk");
    let Some(draft) = draft_for_handoff(help_desk, inbox_id, team_ids, &conversation.channel)
    else {
        return Ok(None);
    };
    let row = ticket::ActiveModel {
        conversation_id: Set(conversation.id),
        inbox_id: Set(draft.inbox_id.0),
        team_id: Set(draft.team_id.map(|t| t.0)),
        source_channel: Set(draft.source_channel),
        status: Set(draft.status.as_str().to_owned()),
        priority: Set(draft.priority.as_str().to_owned()),
        properties: Set("{}".to_owned()),
        created_at: Set(micros(now)),
        updated_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::TicketId, Expr::value(row.id))
        .filter(conversation::Column::Id.eq(conversation.id))
        .exec(db)
        .await
        .map_err(backend)?;
    crate::webhooks::emit(
        db,
        "ticket.created",
        Some(conversation.id),
        serde_json::json!({"ticket_id": row.id, "inbox_id": row.inbox_id, "team_id": row.team_id,
                           "status": row.status, "priority": row.priority}),
        now,
    )
    .await?;
    Ok(Some(TicketId(row.id)))
}

/// Moves the conversation's ticket, if it has one, along the status rules.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    conversation_id: ConversationId,
    activity: Activity,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(row) = ticket::Entity::find()
        .filter(ticket::Column::ConversationId.eq(conversation_id.0))
        .one(db)
        .await
        .map_err(backend)?
    else {
        return Ok(());
    };
    let current = Status::parse(&row.status).unwrap_or(Status::New);
    let next = next_status(current, activity);
    if next != current {
        ticket::Entity::update_many()
            .col_expr(ticket::Column::Status, Expr::value(next.as_str()))
            .col_expr(ticket::Column::UpdatedAt, Expr::value(micros(now)))
            .filter(ticket::Column::Id.eq(row.id))
            .exec(db)
            .await
            .map_err(backend)?;
        crate::webhooks::emit(
            db,
            "ticket.updated",
            Some(conversation_id.0),
            serde_json::json!({"ticket_id": row.id, "status": next.as_str(),
                               "previous_status": current.as_str()}),
            now,
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn get(db: &impl ConnectionTrait, id: TicketId) -> Result<Ticket> {
    let row = ticket::Entity::find_by_id(id.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "ticket",
            id: id.0,
        })?;
    let owner = conversation::Entity::find_by_id(row.conversation_id)
        .one(db)
        .await
        .map_err(backend)?
        .filter(|c| c.assignee_kind == "user")
        .and_then(|c| c.assignee_user_id);
    Ok(Ticket {
        id: TicketId(row.id),
        conversation_id: ConversationId(row.conversation_id),
        owner_id: owner.map(UserId),
        team_id: row.team_id.map(TeamId),
        inbox_id: InboxId(row.inbox_id),
        source_channel: row.source_channel,
        status: row.status,
        priority: row.priority,
    })
}
