//! The outbox: rows written with every outgoing message, delivered after commit, retried
//! with backoff when a provider asks, given up on when it refuses for good.

use baton_core::ids::ConversationId;
use baton_engine::model::OutboxItem;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use crate::convert::{self, micros};
use crate::entity::{conversation, message, outbox};
use crate::turns::audit;
use crate::{Result, backend};

/// Claims up to `limit` rows due at `now`, oldest first, until `lease_until`: a host
/// sends only what it claimed, so several hosts never send one row together, and a host
/// that dies while sending frees its rows when the lease ends.
///
/// A row waits while an earlier row of its conversation is neither delivered nor failed
/// (claimed or not), so one visitor gets messages in order even when a provider asks to
/// retry one. The claim is one conditional update: a concurrent claimer on PostgreSQL
/// waits for the locked rows, re-checks `claimed_until` and skips what this one took.
pub(crate) async fn claim(
    db: &impl ConnectionTrait,
    limit: u64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<OutboxItem>> {
    let due = Query::select()
        .column(outbox::Column::Id)
        .from(outbox::Entity)
        .cond_where(due_at(now))
        .and_where(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM outbox AS earlier \
             WHERE earlier.conversation_id = outbox.conversation_id \
             AND earlier.id < outbox.id \
             AND earlier.delivered_at IS NULL AND earlier.failed_at IS NULL)",
        ))
        .order_by(outbox::Column::Id, sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    let mut items = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(micros(lease_until)),
        )
        .filter(due_at(now))
        .filter(outbox::Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await
        .map_err(backend)?;
    items.sort_by_key(|item| item.id);
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

/// Not delivered, not failed, not waiting to retry, not claimed by a live host.
fn due_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(outbox::Column::DeliveredAt.is_null())
        .add(outbox::Column::FailedAt.is_null())
        .add(
            outbox::Column::RetryAt
                .is_null()
                .or(outbox::Column::RetryAt.lte(micros(now))),
        )
        .add(
            outbox::Column::ClaimedUntil
                .is_null()
                .or(outbox::Column::ClaimedUntil.lte(micros(now))),
        )
}

/// Frees every claim: at the start of the only host (SQLite), the claims of the process
/// before it died are void, and waiting for their leases would only delay its messages.
pub(crate) async fn release_claims(db: &impl ConnectionTrait) -> Result<u64> {
    let done = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<i64>::None),
        )
        .filter(outbox::Column::ClaimedUntil.is_not_null())
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected)
}

pub(crate) async fn mark_delivered(
    db: &impl ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::DeliveredAt, Expr::value(micros(now)))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<i64>::None),
        )
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
        // Settled for now: a retry is due at its own time, not at the end of the lease.
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<i64>::None),
        )
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
