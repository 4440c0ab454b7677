//! Messaging threads: one open conversation per (channel, thread), found or created
//! when a provider's webhook delivers a message; and notices to the visitor outside a
//! turn.

use baton_core::ids::ConversationId;
use baton_engine::model::{Conversation, Message, Visitor};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::entity::{conversation, thread};
use crate::turns::{create_conversation, get, system_message};
use crate::{Result, backend};

/// The open conversation of `thread` on `channel`, or a new one. The thread row is the
/// lock: concurrent first messages of one thread wait for each other and share the
/// conversation; a closed conversation gives way to a new one.
pub(crate) async fn thread_conversation(
    db: &impl ConnectionTrait,
    channel: &str,
    thread_id: &str,
    visitor: Visitor,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    thread::Entity::insert(thread::ActiveModel {
        channel: Set(channel.to_owned()),
        thread: Set(thread_id.to_owned()),
        conversation_id: Set(0),
    })
    .on_conflict_do_nothing_on([thread::Column::Channel, thread::Column::Thread])
    .exec(db)
    .await
    .map_err(backend)?;
    let row = thread::Entity::find()
        .filter(thread::Column::Channel.eq(channel))
        .filter(thread::Column::Thread.eq(thread_id))
        .lock_exclusive()
        .one(db)
        .await
        .map_err(backend)?
        .ok_or_else(|| {
            backend(sea_orm::DbErr::RecordNotFound(format!(
                "thread {thread_id}"
            )))
        })?;
    if row.conversation_id > 0 {
        let current = get(db, ConversationId(row.conversation_id)).await?;
        if current.status == baton_engine::model::ConversationStatus::Open {
            return Ok(current);
        }
    }
    // No visitor token: messaging visitors are authenticated by the provider's
    // signature, and an empty hash matches no token.
    let created = create_conversation(db, channel, visitor, "", now).await?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::Thread, Expr::value(thread_id))
        .filter(conversation::Column::Id.eq(created.id.0))
        .exec(db)
        .await
        .map_err(backend)?;
    thread::Entity::update_many()
        .col_expr(thread::Column::ConversationId, Expr::value(created.id.0))
        .filter(thread::Column::Channel.eq(channel))
        .filter(thread::Column::Thread.eq(thread_id))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(created)
}

/// A system message to the visitor of conversation `id`, through the outbox.
pub(crate) async fn notify_visitor(
    db: &impl ConnectionTrait,
    id: ConversationId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Message> {
    let row = conversation::Entity::find_by_id(id.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(baton_engine::StoreError::NotFound {
            what: "conversation",
            id: id.0,
        })?;
    system_message(db, &row, text, None, now).await
}
