//! The engine's `Store` port on sea-orm: each method opens one transaction, calls the
//! module that owns the change, and commits.

use async_trait::async_trait;
use baton_core::decision::HandoffProcess;
use baton_core::hours::WorkingHours;
use baton_core::ids::{ConversationId, InboxId, MessageId, TeamId, TicketId, UserId, WorkflowId};
use baton_core::people::Availability;
use baton_core::settings::HandoffSettings;
use baton_engine::model::{
    Assignment, AuditEvent, Conversation, Credentials, Handback, HandedBack, HandedOff,
    HandoffPlan, Inbox, InboxKind, Message, NewUser, OutboxItem, Reply, Team, Ticket, Turn,
    TurnOutcome, User, UserChanges, VersionedSettings, View, ViewCounts, Visitor, Webhook,
    WebhookAttempt, WebhookDelivery, WebhookOutcome, Workflow,
};
use baton_engine::ports::Drained;
use baton_engine::{Store, StoreError, StoreResult};
use baton_workflows::Definition;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::connect::SeaStore;
use crate::convert::{self, time};
use crate::entity::{audit, conversation, user};
use crate::routing::{drain, lock_routing};
use crate::{assign, backend, counts, handback, outbox, people, settings, sign_in, threads, turns};

/// Runs `$body` with `$txn` bound to a fresh transaction, committing on success. An
/// error drops the transaction, which rolls it back.
macro_rules! in_txn {
    ($self:ident, |$txn:ident| $body:expr) => {{
        let $txn = $self.db.begin().await.map_err(backend)?;
        let value = $body;
        $txn.commit().await.map_err(backend)?;
        Ok(value)
    }};
}

/// Changes one column of a user under the routing lock: availability, capacity and
/// working hours all move who can take conversations, so the queue drains after them.
async fn set_user_column<V: Into<sea_orm::Value>>(
    txn: &impl ConnectionTrait,
    id: UserId,
    column: user::Column,
    value: V,
) -> StoreResult<()> {
    lock_routing(txn).await?;
    people::user_row(txn, id).await?;
    user::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(user::Column::Id.eq(id.0))
        .exec(txn)
        .await
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl Store for SeaStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await.map_err(backend)
    }

    async fn bootstrap_owner(&self, token_hash: &str) -> StoreResult<Option<User>> {
        in_txn!(self, |txn| people::bootstrap_owner(
            &txn,
            token_hash,
            Utc::now()
        )
        .await?)
    }

    async fn user_by_token(&self, token_hash: &str) -> StoreResult<Option<User>> {
        people::user_by_token(&self.db, token_hash).await
    }

    async fn add_token(&self, user: UserId, token_hash: &str) -> StoreResult<()> {
        in_txn!(self, |txn| {
            people::user_row(&txn, user).await?;
            people::add_token(&txn, user, token_hash, Utc::now()).await?
        })
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        in_txn!(self, |txn| people::insert_user(&txn, &user, Utc::now())
            .await?)
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        people::users(&self.db).await
    }

    async fn user(&self, id: UserId) -> StoreResult<User> {
        people::get_user(&self.db, id).await
    }

    async fn set_availability(
        &self,
        id: UserId,
        availability: Availability,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<User>> {
        in_txn!(self, |txn| {
            set_user_column(&txn, id, user::Column::Availability, availability.as_str()).await?;
            // Away: live conversations nobody answered go back to the queue, where the
            // others may take them at once.
            if availability == Availability::Away {
                assign::requeue_unanswered(&txn, id, now).await?;
            }
            let assignments = drain(&txn, now).await?;
            Drained {
                value: people::get_user(&txn, id).await?,
                assignments,
            }
        })
    }

    async fn set_capacity(
        &self,
        id: UserId,
        capacity: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<User>> {
        in_txn!(self, |txn| {
            set_user_column(&txn, id, user::Column::Capacity, i64::from(capacity)).await?;
            let assignments = drain(&txn, now).await?;
            Drained {
                value: people::get_user(&txn, id).await?,
                assignments,
            }
        })
    }

    async fn set_working_hours(
        &self,
        id: UserId,
        hours: Option<WorkingHours>,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<User>> {
        in_txn!(self, |txn| {
            let text = hours.as_ref().map(convert::working_hours_text);
            set_user_column(&txn, id, user::Column::WorkingHours, text).await?;
            let assignments = assign::sweep_hours(&txn, now).await?;
            Drained {
                value: people::get_user(&txn, id).await?,
                assignments,
            }
        })
    }

    async fn sweep_hours(&self, now: DateTime<Utc>) -> StoreResult<Vec<Assignment>> {
        in_txn!(self, |txn| {
            lock_routing(&txn).await?;
            assign::sweep_hours(&txn, now).await?
        })
    }

    async fn create_team(&self, name: &str, members: &[UserId]) -> StoreResult<Team> {
        in_txn!(self, |txn| people::create_team(
            &txn,
            name,
            members,
            Utc::now()
        )
        .await?)
    }

    async fn teams(&self) -> StoreResult<Vec<Team>> {
        people::teams(&self.db).await
    }

    async fn create_inbox(&self, name: &str, kind: InboxKind) -> StoreResult<Inbox> {
        in_txn!(self, |txn| people::create_inbox(
            &txn,
            name,
            kind,
            Utc::now()
        )
        .await?)
    }

    async fn inboxes(&self) -> StoreResult<Vec<Inbox>> {
        people::inboxes(&self.db).await
    }

    async fn inbox(&self, id: InboxId) -> StoreResult<Inbox> {
        people::inbox(&self.db, id).await
    }

    async fn team(&self, id: TeamId) -> StoreResult<Team> {
        people::team(&self.db, id).await
    }

    async fn settings(&self) -> StoreResult<VersionedSettings> {
        settings::current(&self.db).await
    }

    async fn put_settings(
        &self,
        actor: UserId,
        document: HandoffSettings,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<VersionedSettings> {
        in_txn!(self, |txn| {
            settings::put(&txn, actor, document, expected_version, now).await?
        })
    }

    async fn agent_paused(&self) -> StoreResult<bool> {
        settings::agent_paused(&self.db).await
    }

    async fn set_agent_paused(
        &self,
        actor: UserId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        in_txn!(self, |txn| settings::set_agent_paused(
            &txn, actor, paused, now
        )
        .await?)
    }

    async fn create_conversation(
        &self,
        channel: &str,
        visitor: Visitor,
        visitor_token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation> {
        in_txn!(self, |txn| {
            turns::create_conversation(&txn, channel, visitor, visitor_token_hash, None, now)
                .await?
        })
    }

    async fn create_following_conversation(
        &self,
        channel: &str,
        visitor: Visitor,
        visitor_token_hash: &str,
        previous: ConversationId,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation> {
        in_txn!(self, |txn| {
            turns::create_conversation(
                &txn,
                channel,
                visitor,
                visitor_token_hash,
                Some(previous),
                now,
            )
            .await?
        })
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Conversation> {
        turns::get(&self.db, id).await
    }

    async fn thread_conversation(
        &self,
        channel: &str,
        thread: &str,
        visitor: Visitor,
        client_message_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation> {
        in_txn!(self, |txn| {
            threads::thread_conversation(&txn, channel, thread, visitor, client_message_id, now)
                .await?
        })
    }

    async fn notify_visitor(
        &self,
        id: ConversationId,
        text: &str,
        in_reply_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        in_txn!(self, |txn| {
            threads::notify_visitor(&txn, id, text, in_reply_to, now).await?
        })
    }

    async fn visitor_conversation(
        &self,
        id: ConversationId,
        token_hash: &str,
    ) -> StoreResult<Option<Conversation>> {
        let row = conversation::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound {
                what: "conversation",
                id: id.0,
            })?;
        if row.visitor_token_hash == token_hash {
            convert::conversation(row).map(Some)
        } else {
            Ok(None)
        }
    }

    async fn conversations(
        &self,
        view: View,
        after: Option<ConversationId>,
        limit: u64,
    ) -> StoreResult<Vec<Conversation>> {
        turns::list(&self.db, view, after, limit).await
    }

    async fn view_counts(&self, user: UserId) -> StoreResult<ViewCounts> {
        counts::read(&self.db, user).await
    }

    async fn messages(
        &self,
        id: ConversationId,
        after: Option<MessageId>,
    ) -> StoreResult<Vec<Message>> {
        turns::messages(&self.db, id, after).await
    }

    async fn replay(
        &self,
        id: ConversationId,
        client_message_id: &str,
    ) -> StoreResult<Option<Vec<Reply>>> {
        turns::replay(&self.db, id, client_message_id).await
    }

    async fn commit_turn(&self, turn: Turn) -> StoreResult<TurnOutcome> {
        let conversation_id = turn.conversation_id;
        let client_message_id = turn.client_message_id.clone();
        let txn = self.db.begin().await.map_err(backend)?;
        match turns::commit_turn(&txn, turn).await {
            Ok(outcome) => {
                txn.commit().await.map_err(backend)?;
                Ok(outcome)
            }
            Err(Some(error)) => Err(error),
            Err(None) => {
                // A concurrent repeat committed first: answer as it was answered.
                drop(txn);
                let key = client_message_id.unwrap_or_default();
                let replies = turns::replay(&self.db, conversation_id, &key)
                    .await?
                    .unwrap_or_default();
                Ok(TurnOutcome::Duplicate { replies })
            }
        }
    }

    async fn hand_off(
        &self,
        id: ConversationId,
        plan: HandoffPlan,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<HandedOff>> {
        in_txn!(self, |txn| turns::hand_off_by_choice(&txn, id, &plan, now)
            .await?)
    }

    async fn hand_back(&self, request: Handback) -> StoreResult<HandedBack> {
        in_txn!(self, |txn| handback::hand_back(&txn, request).await?)
    }

    async fn reopen(
        &self,
        id: ConversationId,
        actor: UserId,
        notice: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation> {
        in_txn!(self, |txn| handback::reopen(&txn, id, actor, notice, now)
            .await?)
    }

    async fn queue_position(&self, id: ConversationId) -> StoreResult<Option<u64>> {
        turns::queue_position(&self.db, id).await
    }

    async fn anyone_eligible(
        &self,
        user_ids: &[UserId],
        team_ids: &[TeamId],
        process: HandoffProcess,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // Interning writes the route once per destination; later calls only read.
        in_txn!(self, |txn| {
            let route = crate::routes::intern(&txn, user_ids, team_ids, now).await?;
            crate::routes::anyone_eligible(&txn, route.id, crate::routing::mode(process), now)
                .await?
        })
    }

    async fn claim(
        &self,
        id: ConversationId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation> {
        let manual = assign::Manual {
            id,
            user,
            from: None,
            actor: user,
            rule: "manual claim".into(),
        };
        in_txn!(self, |txn| assign::assign(&txn, manual, now).await?.0)
    }

    async fn assign(
        &self,
        id: ConversationId,
        user: UserId,
        from: Option<UserId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<Conversation>> {
        let manual = assign::Manual {
            id,
            user,
            from,
            actor,
            rule: format!("manual assignment by user {actor}"),
        };
        in_txn!(self, |txn| {
            let (value, assignments) = assign::assign(&txn, manual, now).await?;
            Drained { value, assignments }
        })
    }

    async fn assign_team(
        &self,
        id: ConversationId,
        team: TeamId,
        from: Option<UserId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<Conversation>> {
        in_txn!(self, |txn| {
            let (value, assignments) =
                assign::assign_team(&txn, id, team, from, actor, now).await?;
            Drained { value, assignments }
        })
    }

    async fn reroute_unanswered(
        &self,
        timeout: std::time::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Assignment>> {
        in_txn!(self, |txn| assign::reroute_unanswered(&txn, timeout, now)
            .await?)
    }

    async fn staff_reply(
        &self,
        id: ConversationId,
        user: UserId,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Message> {
        in_txn!(self, |txn| turns::staff_reply(&txn, id, user, text, now)
            .await?)
    }

    async fn close(
        &self,
        id: ConversationId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<Conversation>> {
        in_txn!(self, |txn| {
            let (value, assignments) = turns::close(&txn, id, actor, now).await?;
            Drained { value, assignments }
        })
    }

    async fn ticket(&self, id: TicketId) -> StoreResult<Ticket> {
        crate::tickets::get(&self.db, id).await
    }

    async fn create_workflow(
        &self,
        definition: Definition,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow> {
        in_txn!(self, |txn| crate::workflows::create(&txn, definition, now)
            .await?)
    }

    async fn update_workflow(
        &self,
        id: WorkflowId,
        definition: Definition,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow> {
        in_txn!(self, |txn| crate::workflows::update(
            &txn, id, definition, now
        )
        .await?)
    }

    async fn workflow(&self, id: WorkflowId) -> StoreResult<Workflow> {
        crate::workflows::get(&self.db, id).await
    }

    async fn workflows(&self) -> StoreResult<Vec<Workflow>> {
        crate::workflows::list(&self.db).await
    }

    async fn advance_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Assignment>> {
        let due = crate::runs::due_runs(&self.db, now, 50, None).await?;
        let mut assignments = Vec::new();
        for run in due {
            // One transaction per run: one failing run does not hold the others back.
            let txn = self.db.begin().await.map_err(backend)?;
            let Some(run) = crate::runs::due_runs(&txn, now, 1, Some(run.id))
                .await?
                .into_iter()
                .next()
            else {
                continue;
            };
            let id = run.id;
            match crate::runs::advance(&txn, run, None, now).await {
                Ok((_, moved)) => {
                    txn.commit().await.map_err(backend)?;
                    assignments.extend(moved);
                }
                Err(error) => {
                    tracing::warn!(run = id, %error, "workflow run failed; retried later")
                }
            }
        }
        Ok(assignments)
    }

    async fn queue_length(&self) -> StoreResult<u64> {
        turns::queue_length(&self.db).await
    }

    async fn claim_outbox(
        &self,
        limit: u64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<OutboxItem>> {
        outbox::claim(&self.db, limit, now, lease_until).await
    }

    async fn release_outbox_claims(&self) -> StoreResult<u64> {
        if self.db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return Ok(0);
        }
        outbox::release_claims(&self.db).await
    }

    async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()> {
        outbox::mark_delivered(&self.db, ids, now).await
    }

    async fn mark_retry(
        &self,
        id: i64,
        retry_at: DateTime<Utc>,
        error: &str,
        _now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let column = crate::entity::outbox::Column::RetryAt;
        outbox::mark_attempt_failed(&self.db, id, column, retry_at, error).await
    }

    async fn mark_failed(&self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
        in_txn!(self, |txn| {
            outbox::mark_failed(&txn, id, error, now).await?
        })
    }

    async fn audit(
        &self,
        limit: u64,
        before: Option<i64>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<AuditEvent>> {
        // `(kind, id)` and the primary key make either page one index range.
        let mut query = audit::Entity::find();
        if let Some(kind) = kind {
            query = query.filter(audit::Column::Kind.eq(kind));
        }
        if let Some(before) = before {
            query = query.filter(audit::Column::Id.lt(before));
        }
        Ok(query
            .order_by_desc(audit::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(backend)?
            .into_iter()
            .map(|row| AuditEvent {
                id: row.id,
                at: time(row.at),
                kind: row.kind,
                actor_user_id: row.actor_user_id.map(UserId),
                conversation_id: row.conversation_id.map(ConversationId),
                detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        secret: &str,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        in_txn!(self, |txn| {
            crate::webhooks::create(&txn, url, events, secret, actor, now).await?
        })
    }

    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        crate::webhooks::list(&self.db).await
    }

    async fn delete_webhook(&self, id: i64, actor: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        in_txn!(self, |txn| {
            crate::webhooks::delete(&txn, id, actor, now).await?
        })
    }

    async fn webhook_attempts(
        &self,
        id: i64,
        limit: u64,
        before: Option<i64>,
    ) -> StoreResult<Vec<WebhookAttempt>> {
        crate::webhooks::attempts(&self.db, id, limit, before).await
    }

    async fn replay_webhook(&self, id: i64, actor: UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        in_txn!(self, |txn| {
            crate::webhooks::replay(&txn, id, actor, now).await?
        })
    }

    async fn claim_webhook_deliveries(
        &self,
        limit: u64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        in_txn!(self, |txn| {
            crate::webhooks::claim(&txn, limit, now, lease_until).await?
        })
    }

    async fn prune_webhook_history(&self, before: DateTime<Utc>, limit: u64) -> StoreResult<u64> {
        crate::webhook_retention::prune(&self.db, before, limit).await
    }

    async fn record_webhook_attempts(&self, outcomes: &[WebhookOutcome]) -> StoreResult<()> {
        in_txn!(self, |txn| {
            crate::webhooks::record(&txn, outcomes).await?
        })
    }

    async fn user_credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        sign_in::credentials(&self.db, email).await
    }

    async fn create_password_link(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        in_txn!(self, |txn| {
            sign_in::create_link(&txn, user, token_hash, expires_at, now).await?
        })
    }

    async fn password_link_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        sign_in::link_user(&self.db, token_hash, now).await
    }

    async fn redeem_password_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        in_txn!(self, |txn| {
            sign_in::redeem_link(&txn, token_hash, password_hash, now).await?
        })
    }

    async fn change_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        in_txn!(self, |txn| {
            sign_in::change_password(&txn, user, password_hash, keep_session, now).await?
        })
    }

    async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        in_txn!(self, |txn| {
            sign_in::create_session(&txn, user, token_hash, expires_at, now).await?
        })
    }

    async fn session_user(
        &self,
        token_hash: &str,
        idle: std::time::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        sign_in::session_user(&self.db, token_hash, idle, now).await
    }

    async fn revoke_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sign_in::revoke_session(&self.db, token_hash, now).await
    }

    async fn update_user(
        &self,
        id: UserId,
        changes: UserChanges,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        in_txn!(self, |txn| people::update(&txn, id, changes, actor, now)
            .await?)
    }
}
