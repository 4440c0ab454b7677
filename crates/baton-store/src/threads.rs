//! Messaging threads: one open conversation per (channel, thread), found or created
//! when a provider's webhook delivers a message; and notices to the visitor outside a
//! turn.

use baton_core::ids::ConversationId;
use baton_engine::model::{Author, Conversation, Message, Visitor};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::{conversation, message, thread};
use crate::turns::{NewMessage, create_conversation, get, insert_message, locked, system_message};
use crate::{Result, backend};

/// The open conversation of `thread` on `channel`, or a new one. The thread row is the
/// lock: concurrent first messages of one thread wait for each other and share the
/// conversation; a closed conversation gives way to a new one. A repeat of a message one
/// of the thread's conversations holds (`client_message_id`, a provider redelivering
/// after a close) goes back to that one, to be answered as a repeat, not stored twice.
pub(crate) async fn thread_conversation(
    db: &impl ConnectionTrait,
    channel: &str,
    thread_id: &str,
    visitor: Visitor,
    client_message_id: Option<&str>,
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
    if let Some(key) = client_message_id
        && let Some(holder) = holder(db, channel, thread_id, key).await?
    {
        return get(db, holder).await;
    }
    if row.conversation_id > 0 {
        let current = get(db, ConversationId(row.conversation_id)).await?;
        if current.status == baton_engine::model::ConversationStatus::Open {
            return Ok(current);
        }
    }
    // No visitor token: messaging visitors are authenticated by the provider's
    // signature, and an empty hash matches no token.
    let created = create_conversation(db, channel, visitor, "", None, now).await?;
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

/// The conversation of the thread that holds the message `client_message_id`, newest
/// first (the thread's conversations by index, then the message by its unique key).
async fn holder(
    db: &impl ConnectionTrait,
    channel: &str,
    thread_id: &str,
    client_message_id: &str,
) -> Result<Option<ConversationId>> {
    let found: Option<i64> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::Channel.eq(channel))
        .filter(conversation::Column::Thread.eq(thread_id))
        .filter(
            conversation::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(message::Column::ConversationId)
                    .from(message::Entity)
                    .and_where(message::Column::ClientMessageId.eq(client_message_id))
                    .and_where(
                        Expr::col((message::Entity, message::Column::ConversationId))
                            .equals((conversation::Entity, conversation::Column::Id)),
                    )
                    .to_owned(),
            ),
        )
        .order_by_desc(conversation::Column::Id)
        .into_tuple()
        .one(db)
        .await
        .map_err(backend)?;
    Ok(found.map(ConversationId))
}

/// A system message to the visitor of conversation `id`, through the outbox. With
/// `in_reply_to` (the provider's id of the message it answers) it is sent once: `None`
/// when it already was. The conversation row is locked so that two deliveries of one
/// webhook cannot both find it unsent.
pub(crate) async fn notify_visitor(
    db: &impl ConnectionTrait,
    id: ConversationId,
    text: &str,
    in_reply_to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Message>> {
    let row = locked(db, id).await?;
    let Some(answered) = in_reply_to else {
        return system_message(db, &row, text, None, now).await.map(Some);
    };
    // The unique (conversation, client message id) index keeps it once; the prefix keeps
    // it apart from the provider ids of visitor messages.
    let key = format!("notice:{answered}");
    let sent = message::Entity::find()
        .filter(message::Column::ConversationId.eq(id.0))
        .filter(message::Column::ClientMessageId.eq(key.as_str()))
        .one(db)
        .await
        .map_err(backend)?;
    if sent.is_some() {
        return Ok(None);
    }
    let message = insert_message(
        db,
        NewMessage {
            conversation: &row,
            author: Author::System,
            author_user_id: None,
            text,
            client_message_id: Some(&key),
            reply_to: None,
            outgoing: true,
        },
        now,
    )
    .await
    .map_err(backend)?;
    Ok(Some(message))
}
