//! Outgoing webhooks (B15): subscriptions, and their outbox. `emit` is called by the few
//! functions every change goes through (`audit`, `insert_message`, `create_conversation`,
//! the ticket writes), inside the change's transaction, so an event exists exactly when
//! its change does. Rows are written only for endpoints subscribed to the type.

use baton_core::ids::UserId;
use baton_engine::StoreError;
use baton_engine::model::{Webhook, WebhookAttempt, WebhookDelivery, WebhookNext, WebhookOutcome};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde_json::{Map, Value, json};

use crate::convert::{micros, time};
use crate::entity::{webhook, webhook_attempt, webhook_delivery};
use crate::turns::audit;
use crate::{Result, backend};

/// The event type an audit row of `kind` reports, if any; `detail` picks between the
/// outcomes of one kind.
pub(crate) fn audit_events(kind: &str, detail: &Value) -> Vec<&'static str> {
    match kind {
        "handoff" => {
            let mut events = vec!["conversation.handoff"];
            if detail["queued"] == Value::Bool(true) {
                events.push("conversation.queued");
            } else if !Value::is_null(&detail["assignee_user_id"]) {
                events.push("conversation.assigned");
            }
            events
        }
        "assignment" => vec!["conversation.assigned"],
        "requeued" => vec!["conversation.queued"],
        "rerouted" => vec!["conversation.rerouted"],
        "handed_back" => vec!["conversation.handed_back"],
        "closed" => vec!["conversation.closed"],
        "workflow_unassigned" if detail["closed"] == Value::Bool(true) => {
            vec!["conversation.closed"]
        }
        "reopened" => vec!["conversation.reopened"],
        // A workflow step that changed the ticket's fields (its owner changes are
        // audited as `assignment`).
        "workflow_step"
            if matches!(
                detail["action"].as_str(),
                Some("assign_team" | "set_priority" | "set_property")
            ) =>
        {
            vec!["ticket.updated"]
        }
        "settings_changed" | "agent_state" => vec!["settings.updated"],
        _ => Vec::new(),
    }
}

/// `n`th bound value in raw SQL: `$n` on PostgreSQL, `?n` on SQLite.
fn param(backend_kind: DbBackend, n: usize) -> String {
    match backend_kind {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// The active webhooks subscribed to the type bound at `star` and `star + 1` (`"*"` and
/// the type, as they appear in the stored JSON array).
fn subscribed(backend_kind: DbBackend, star: usize) -> String {
    format!(
        "disabled_at IS NULL AND (events LIKE {} OR events LIKE {})",
        param(backend_kind, star),
        param(backend_kind, star + 1)
    )
}

fn patterns(event_type: &str) -> [sea_orm::Value; 2] {
    ["%\"*\"%".into(), format!("%\"{event_type}\"%").into()]
}

/// The conversation's next event number when some endpoint subscribes to `event_type`,
/// taken under the row's lock: events of one conversation are numbered in commit order,
/// which is the transcript's order. `None` (nothing changed) without a subscriber: then
/// the check costs this one statement.
async fn next_sequence(
    db: &impl ConnectionTrait,
    conversation_id: i64,
    event_type: &str,
) -> Result<Option<i64>> {
    let backend_kind = db.get_database_backend();
    let sql = format!(
        "UPDATE conversations SET event_sequence = event_sequence + 1 \
         WHERE id = {} AND EXISTS (SELECT 1 FROM webhooks WHERE {}) RETURNING event_sequence",
        param(backend_kind, 1),
        subscribed(backend_kind, 2)
    );
    let [star, exact] = patterns(event_type);
    let Some(row) = db
        .query_one_raw(Statement::from_sql_and_values(
            backend_kind,
            sql,
            [conversation_id.into(), star, exact],
        ))
        .await
        .map_err(backend)?
    else {
        return Ok(None);
    };
    row.try_get("", "event_sequence").map(Some).map_err(backend)
}

/// Writes event `event_type` about `conversation_id` with `data` for every subscribed
/// endpoint, with a statement or two in the change's transaction. `data` gains
/// `conversation_id` and the conversation's `sequence`.
pub(crate) async fn emit(
    db: &impl ConnectionTrait,
    event_type: &str,
    conversation_id: Option<i64>,
    data: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut data = match data {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("value".into(), other);
            map
        }
    };
    let backend_kind = db.get_database_backend();
    if let (Some(id), DbBackend::Postgres) = (conversation_id, backend_kind) {
        return emit_numbered(db, event_type, id, data, now).await;
    }
    if let Some(id) = conversation_id {
        let Some(sequence) = next_sequence(db, id, event_type).await? else {
            return Ok(());
        };
        data.insert("conversation_id".into(), json!(id));
        data.insert("sequence".into(), json!(sequence));
    }
    let body = json!({
        "type": event_type,
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string();
    let event_id = new_event_id();
    let p = |n| param(backend_kind, n);
    let sql = format!(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, conversation_id, \
         body, attempts, created_at, next_attempt_at) \
         SELECT id, {}, {}, {}, {}, 0, {}, {} FROM webhooks WHERE {}",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(5),
        subscribed(backend_kind, 6)
    );
    let [star, exact] = patterns(event_type);
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        sql,
        [
            event_id.into(),
            event_type.into(),
            conversation_id.into(),
            body.into(),
            micros(now).into(),
            star,
            exact,
        ],
    ))
    .await
    .map_err(backend)?;
    Ok(())
}

/// The `webhook-id` of a new event.
fn new_event_id() -> String {
    format!("msg_{:032x}", rand::rng().random::<u128>())
}

/// [`emit`] for a conversation's event on PostgreSQL in one statement: the numbering
/// update is a data-modifying CTE whose result the insert splices into the body, so an
/// event costs one round trip in the change's transaction whether or not anyone
/// subscribes (SQLite has no DML in CTEs and no network round trip to save).
async fn emit_numbered(
    db: &impl ConnectionTrait,
    event_type: &str,
    conversation_id: i64,
    mut data: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<()> {
    data.insert("conversation_id".into(), json!(conversation_id));
    let data = Value::Object(data).to_string();
    // `data` is a non-empty object: its closing brace gives way to the sequence.
    let open = data.strip_suffix('}').unwrap_or(&data);
    let head = format!(
        "{{\"type\":{},\"timestamp\":{},\"data\":{open},\"sequence\":",
        json!(event_type),
        json!(now.to_rfc3339_opts(SecondsFormat::Micros, true)),
    );
    let backend_kind = DbBackend::Postgres;
    let sql = format!(
        "WITH numbered AS (UPDATE conversations SET event_sequence = event_sequence + 1 \
         WHERE id = $1 AND EXISTS (SELECT 1 FROM webhooks WHERE {subscribed}) \
         RETURNING event_sequence) \
         INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, conversation_id, \
         body, attempts, created_at, next_attempt_at) \
         SELECT webhooks.id, $4, $5, $1, $6 || numbered.event_sequence::text || '}}}}', 0, $7, $7 \
         FROM webhooks, numbered WHERE {subscribed}",
        subscribed = subscribed(backend_kind, 2),
    );
    let [star, exact] = patterns(event_type);
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        sql,
        [
            conversation_id.into(),
            star,
            exact,
            new_event_id().into(),
            event_type.into(),
            head.into(),
            micros(now).into(),
        ],
    ))
    .await
    .map_err(backend)?;
    Ok(())
}

fn to_webhook(row: webhook::Model) -> Webhook {
    Webhook {
        id: row.id,
        url: row.url,
        events: serde_json::from_str(&row.events).unwrap_or_default(),
        created_at: time(row.created_at),
        disabled_at: row.disabled_at.map(time),
        disabled_reason: row.disabled_reason,
        failing_since: row.failing_since.map(time),
        last_attempt_at: row.last_attempt_at.map(time),
        last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
    }
}

async fn row(db: &impl ConnectionTrait, id: i64) -> Result<webhook::Model> {
    webhook::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "webhook",
            id,
        })
}

pub(crate) async fn create(
    db: &impl ConnectionTrait,
    url: &str,
    events: &[String],
    secret: &str,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<Webhook> {
    let row = webhook::ActiveModel {
        url: Set(url.to_owned()),
        events: Set(json!(events).to_string()),
        secret: Set(secret.to_owned()),
        created_at: Set(micros(now)),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        last_attempt_at: Set(None),
        last_status: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    audit(
        db,
        now,
        "webhook_created",
        Some(actor),
        None,
        json!({"webhook_id": row.id, "url": url, "events": events}),
    )
    .await?;
    Ok(to_webhook(row))
}

pub(crate) async fn list(db: &impl ConnectionTrait) -> Result<Vec<Webhook>> {
    Ok(webhook::Entity::find()
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(to_webhook)
        .collect())
}

pub(crate) async fn delete(
    db: &impl ConnectionTrait,
    id: i64,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<()> {
    let found = row(db, id).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(db)
        .await
        .map_err(backend)?;
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::WebhookId.eq(id))
        .exec(db)
        .await
        .map_err(backend)?;
    webhook::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map_err(backend)?;
    audit(
        db,
        now,
        "webhook_deleted",
        Some(actor),
        None,
        json!({"webhook_id": id, "url": found.url}),
    )
    .await
}

pub(crate) async fn attempts(
    db: &impl ConnectionTrait,
    id: i64,
    limit: u64,
    before: Option<i64>,
) -> Result<Vec<WebhookAttempt>> {
    row(db, id).await?;
    let mut query =
        webhook_attempt::Entity::find().filter(webhook_attempt::Column::WebhookId.eq(id));
    if let Some(before) = before {
        query = query.filter(webhook_attempt::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(webhook_attempt::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(|a| WebhookAttempt {
            id: a.id,
            delivery_id: a.delivery_id,
            event_id: a.event_id,
            event_type: a.event_type,
            at: time(a.at),
            outcome: a.outcome,
            status: a.status.and_then(|s| u16::try_from(s).ok()),
            error: a.error,
        })
        .collect())
}

pub(crate) async fn replay(
    db: &impl ConnectionTrait,
    id: i64,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<u64> {
    let found = row(db, id).await?;
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::DisabledAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            webhook::Column::DisabledReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            webhook::Column::FailingSince,
            Expr::value(Option::<i64>::None),
        )
        .filter(webhook::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(backend)?;
    let replayed = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::FailedAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(micros(now)),
        )
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .filter(webhook_delivery::Column::FailedAt.is_not_null())
        .exec(db)
        .await
        .map_err(backend)?
        .rows_affected;
    audit(
        db,
        now,
        "webhook_replayed",
        Some(actor),
        None,
        json!({"webhook_id": id, "deliveries": replayed, "was_disabled": found.disabled_at.is_some()}),
    )
    .await?;
    Ok(replayed)
}

/// Claims due deliveries with one conditional update: a concurrent claimer (another
/// host) re-checks `next_attempt_at` on the locked rows and skips what this one took.
pub(crate) async fn claim(
    db: &impl ConnectionTrait,
    limit: u64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<WebhookDelivery>> {
    let due = Query::select()
        .column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::NextAttemptAt.lte(micros(now)))
        .order_by(webhook_delivery::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(micros(lease_until)),
        )
        .filter(webhook_delivery::Column::NextAttemptAt.lte(micros(now)))
        .filter(webhook_delivery::Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await
        .map_err(backend)?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let endpoints = webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(claimed.iter().map(|d| d.webhook_id)))
        .all(db)
        .await
        .map_err(backend)?;
    let mut out = Vec::with_capacity(claimed.len());
    for delivery in claimed {
        let Some(endpoint) = endpoints.iter().find(|e| e.id == delivery.webhook_id) else {
            continue;
        };
        if endpoint.disabled_at.is_some() {
            // Disabled while this row was in flight: it waits for a replay.
            webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::NextAttemptAt,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(webhook_delivery::Column::FailedAt, Expr::value(micros(now)))
                .filter(webhook_delivery::Column::Id.eq(delivery.id))
                .exec(db)
                .await
                .map_err(backend)?;
            continue;
        }
        out.push(WebhookDelivery {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            url: endpoint.url.clone(),
            secret: endpoint.secret.clone(),
            event_id: delivery.event_id,
            body: delivery.body,
            attempts: u32::try_from(delivery.attempts).unwrap_or(u32::MAX),
        });
    }
    out.sort_by_key(|d| d.id);
    Ok(out)
}

/// Records a batch of attempts, moves each delivery on, and keeps each endpoint's
/// state: when it started failing, and whether it is disabled (then its pending
/// deliveries wait for a replay as failed ones). The common case — every attempt
/// delivered — is three statements for the whole batch.
pub(crate) async fn record(db: &impl ConnectionTrait, outcomes: &[WebhookOutcome]) -> Result<()> {
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Id.is_in(outcomes.iter().map(|o| o.delivery_id)))
        .all(db)
        .await
        .map_err(backend)?;
    // Deliveries deleted with their endpoint while in flight are skipped.
    let found: Vec<(&WebhookOutcome, &webhook_delivery::Model)> = outcomes
        .iter()
        .filter_map(|o| {
            deliveries
                .iter()
                .find(|d| d.id == o.delivery_id)
                .map(|d| (o, d))
        })
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let attempts = found.iter().map(|(o, d)| webhook_attempt::ActiveModel {
        webhook_id: Set(d.webhook_id),
        delivery_id: Set(d.id),
        event_id: Set(d.event_id.clone()),
        event_type: Set(d.event_type.clone()),
        at: Set(micros(o.at)),
        outcome: Set(match o.next {
            WebhookNext::Delivered => "delivered",
            WebhookNext::RetryAt(_) => "retrying",
            WebhookNext::GiveUp | WebhookNext::Disable(_) => "failed",
        }
        .to_owned()),
        status: Set(o.status.map(i64::from)),
        error: Set(o.error.clone()),
        ..Default::default()
    });
    webhook_attempt::Entity::insert_many(attempts)
        .exec(db)
        .await
        .map_err(backend)?;
    let delivered: Vec<i64> = found
        .iter()
        .filter(|(o, _)| o.next == WebhookNext::Delivered)
        .map(|(_, d)| d.id)
        .collect();
    if !delivered.is_empty() {
        let now = found.iter().map(|(o, _)| o.at).max().unwrap_or_default();
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                webhook_delivery::Column::DeliveredAt,
                Expr::value(micros(now)),
            )
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::col(webhook_delivery::Column::Attempts).add(1),
            )
            .filter(webhook_delivery::Column::Id.is_in(delivered))
            .exec(db)
            .await
            .map_err(backend)?;
    }
    for (outcome, delivery) in found
        .iter()
        .filter(|(o, _)| o.next != WebhookNext::Delivered)
    {
        let (next_at, failed_at) = match &outcome.next {
            WebhookNext::RetryAt(at) => (Some(micros(*at)), None),
            _ => (None, Some(micros(outcome.at))),
        };
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(next_at),
            )
            .col_expr(webhook_delivery::Column::FailedAt, Expr::value(failed_at))
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::col(webhook_delivery::Column::Attempts).add(1),
            )
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .exec(db)
            .await
            .map_err(backend)?;
    }
    let mut endpoints: Vec<i64> = found.iter().map(|(_, d)| d.webhook_id).collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    for endpoint_id in endpoints {
        let mine: Vec<&WebhookOutcome> = found
            .iter()
            .filter(|(_, d)| d.webhook_id == endpoint_id)
            .map(|(o, _)| *o)
            .collect();
        endpoint_after(db, endpoint_id, &mine).await?;
    }
    Ok(())
}

/// An endpoint's state after `outcomes` (its attempts of one batch, in order).
async fn endpoint_after(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    outcomes: &[&WebhookOutcome],
) -> Result<()> {
    let Some(last) = outcomes.last() else {
        return Ok(());
    };
    let endpoint = row(db, endpoint_id).await?;
    let failing_since = match last.next {
        WebhookNext::Delivered => None,
        _ => Some(endpoint.failing_since.unwrap_or(micros(last.at))),
    };
    webhook::Entity::update_many()
        .col_expr(webhook::Column::LastAttemptAt, Expr::value(micros(last.at)))
        .col_expr(
            webhook::Column::LastStatus,
            Expr::value(last.status.map(i64::from)),
        )
        .col_expr(webhook::Column::FailingSince, Expr::value(failing_since))
        .filter(webhook::Column::Id.eq(endpoint_id))
        .exec(db)
        .await
        .map_err(backend)?;
    if endpoint.disabled_at.is_some() {
        return Ok(());
    }
    let reason = outcomes.iter().find_map(|o| match &o.next {
        WebhookNext::Disable(reason) => Some(reason.clone()),
        // Retries exhausted (about three days) with no success since the endpoint
        // started failing: it has failed continuously for days.
        WebhookNext::GiveUp => endpoint.failing_since.map(|since| {
            format!(
                "every attempt failed since {}; retries exhausted",
                time(since).to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        }),
        _ => None,
    });
    if let Some(reason) = reason {
        disable(db, &endpoint, &reason, last.at).await?;
    }
    Ok(())
}

async fn disable(
    db: &impl ConnectionTrait,
    endpoint: &webhook::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    webhook::Entity::update_many()
        .col_expr(webhook::Column::DisabledAt, Expr::value(micros(now)))
        .col_expr(webhook::Column::DisabledReason, Expr::value(reason))
        .filter(webhook::Column::Id.eq(endpoint.id))
        .exec(db)
        .await
        .map_err(backend)?;
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(webhook_delivery::Column::FailedAt, Expr::value(micros(now)))
        .filter(webhook_delivery::Column::WebhookId.eq(endpoint.id))
        .filter(webhook_delivery::Column::NextAttemptAt.is_not_null())
        .exec(db)
        .await
        .map_err(backend)?;
    audit(
        db,
        now,
        "webhook_disabled",
        None,
        None,
        json!({"webhook_id": endpoint.id, "url": endpoint.url, "reason": reason}),
    )
    .await
}

/// An audit row's detail as event data, with who acted and, for a handoff, its trigger.
pub(crate) fn audit_data(kind: &str, actor: Option<UserId>, detail: &Value) -> Value {
    let mut data = match detail {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    data.insert("actor_user_id".into(), json!(actor.map(|a| a.0)));
    if kind == "handoff" {
        data.insert("trigger".into(), detail["reason"]["kind"].clone());
    }
    Value::Object(data)
}

pub(crate) fn message_data(row: &crate::entity::message::Model) -> Value {
    json!({
        "message": {
            "id": row.id,
            "author": row.author,
            "author_user_id": row.author_user_id,
            "text": row.text,
            "created_at": time(row.created_at).to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    })
}
