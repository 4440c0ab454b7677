//! The outbox: rows written with every outgoing message, delivered after commit, retried
//! with backoff when a provider asks, given up on when it refuses for good.

use baton_core::ids::ConversationId;
use baton_engine::model::OutboxItem;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::convert::{self, micros};
use crate::entity::{conversation, message, outbox};
use crate::turns::audit;
use crate::{Result, backend};

/// Rows due at `now`, oldest first. A row waits while an earlier row of its conversation
/// is neither delivered nor failed, so one visitor gets messages in order even when a
/// provider asks to retry one.
pub(crate) async fn pending(
    db: &impl ConnectionTrait,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxItem>> {
    let items = outbox::Entity::find()
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .filter(
            outbox::Column::RetryAt
                .is_null()
                .or(outbox::Column::RetryAt.lte(micros(now))),
        )
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM outbox AS earlier \
             WHERE earlier.conversation_id = outbox.conversation_id \
             AND earlier.id < outbox.id \
             AND earlier.delivered_at IS NULL AND earlier.failed_at IS NULL)",
        ))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(backend)?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let messages = message::Entity::find()
        .filter(message::Column::Id.is_in(items.iter().map(|i| i.message_id)))
        .all(db)
        .await
        .map_err(backend)?;
    let threads: Vec<(i64, Option<String>)> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .column(conversation::Column::Thread)
        .filter(conversation::Column::Id.is_in(items.iter().map(|i| i.conversation_id)))
        .into_tuple()
        .all(db)
        .await
        .map_err(backend)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(row) = messages.iter().find(|m| m.id == item.message_id) else {
            continue;
        };
        let thread = threads
            .iter()
            .find(|(id, _)| *id == item.conversation_id)
            .and_then(|(_, thread)| thread.clone());
        out.push(OutboxItem {
            id: item.id,
            channel: item.channel,
            thread,
            message: convert::message(row.clone())?,
            attempts: u32::try_from(item.attempts).unwrap_or(u32::MAX),
        });
    }
    Ok(out)
}

pub(crate) async fn mark_delivered(
    db: &impl ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::DeliveredAt, Expr::value(micros(now)))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Gives up on row `id`, and says so in the audit log: staff learn that a message did
/// not reach the visitor (`delivery_failed`, with the provider's reason).
pub(crate) async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    mark_attempt_failed(db, id, outbox::Column::FailedAt, now, error).await?;
    let Some(row) = outbox::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(backend)?
    else {
        return Ok(());
    };
    audit(
        db,
        now,
        "delivery_failed",
        None,
        Some(ConversationId(row.conversation_id)),
        json!({
            "channel": row.channel,
            "message_id": row.message_id,
            "attempts": row.attempts,
            "reason": error,
        }),
    )
    .await
}

/// Counts a failed attempt on row `id`, setting `column` (`RetryAt` or `FailedAt`) to `at`.
pub(crate) async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    id: i64,
    column: outbox::Column,
    at: DateTime<Utc>,
    error: &str,
) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(column, Expr::value(micros(at)))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}
