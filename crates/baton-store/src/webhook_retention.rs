//! Outgoing webhooks' history is a log, not data: deliveries settled (delivered or given
//! up on) and attempts older than the retention are deleted, a bounded batch at a time so
//! that no statement holds its table long.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::convert::micros;
use crate::entity::{webhook_attempt, webhook_delivery};
use crate::{Result, backend};

/// Deletes up to `limit` attempts made before `before` and up to `limit` settled
/// deliveries created before it; how many rows went. A delivery still to be tried (its
/// `next_attempt_at` set, e.g. after a replay) stays whatever its age.
pub(crate) async fn prune(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64> {
    let old_attempts = Query::select()
        .column(webhook_attempt::Column::Id)
        .from(webhook_attempt::Entity)
        .and_where(webhook_attempt::Column::At.lt(micros(before)))
        .limit(limit)
        .to_owned();
    let attempts = webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::Id.in_subquery(old_attempts))
        .exec(db)
        .await
        .map_err(backend)?
        .rows_affected;
    let old_deliveries = Query::select()
        .column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::CreatedAt.lt(micros(before)))
        .and_where(webhook_delivery::Column::NextAttemptAt.is_null())
        .limit(limit)
        .to_owned();
    let deliveries = webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Id.in_subquery(old_deliveries))
        .exec(db)
        .await
        .map_err(backend)?
        .rows_affected;
    Ok(attempts + deliveries)
}
