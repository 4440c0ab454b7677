//! The ports the engine needs from the outside world. Adapters implement them; the engine
//! holds them as `Arc<dyn Port>`.
//!
//! Every `Store` method that changes state is one transaction: it either applies
//! completely, outbox rows and audit rows included, or not at all.

use async_trait::async_trait;
use baton_core::decision::{AgentAnswer, HandoffProcess};
use baton_core::hours::WorkingHours;
use baton_core::ids::{ConversationId, InboxId, MessageId, TeamId, TicketId, UserId, WorkflowId};
use baton_core::people::Availability;
use baton_core::settings::{FieldError, HandoffSettings};
use baton_workflows::Definition;
use chrono::{DateTime, Utc};

use crate::model::{
    Assignment, AuditEvent, Conversation, Credentials, Handback, HandedBack, HandedOff,
    HandoffPlan, Inbox, InboxKind, Message, NewUser, OutboxItem, Reply, Team, Ticket, Turn,
    TurnOutcome, User, UserChanges, VersionedSettings, View, ViewCounts, Visitor, Webhook,
    WebhookAttempt, WebhookDelivery, WebhookOutcome, Workflow,
};

/// The customer agent: answers a visitor's question or says it cannot.
#[async_trait]
pub trait Answerer: Send + Sync + std::fmt::Debug {
    /// Answers `question`, the visitor's newest message, given `transcript`: the whole
    /// conversation before it, oldest first — the visitor's, the agent's, the humans'
    /// and system messages alike, so that after a handback (B14) the agent resumes
    /// knowing what the humans said. Never fails: an agent that cannot reach its model
    /// or knowledge reports [`AgentAnswer::CannotAnswer`] with the reason.
    async fn answer(&self, question: &str, transcript: &[Message]) -> AgentAnswer;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A value or reference is invalid; names the field.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    /// The change conflicts with the current state (another owner, no capacity...).
    #[error("{0}")]
    Conflict(String),
    /// The database failed; the message is for logs, not for clients.
    #[error("database error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The result of a change that may have assigned queued conversations.
#[derive(Debug, Clone, PartialEq)]
pub struct Drained<T> {
    pub value: T,
    pub assignments: Vec<Assignment>,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;

    // --- staff and auth -------------------------------------------------------------
    /// Creates the owner with `token_hash` when there is no user yet; `None` otherwise.
    async fn bootstrap_owner(&self, token_hash: &str) -> StoreResult<Option<User>>;
    async fn user_by_token(&self, token_hash: &str) -> StoreResult<Option<User>>;
    async fn add_token(&self, user: UserId, token_hash: &str) -> StoreResult<()>;
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    async fn user(&self, id: UserId) -> StoreResult<User>;
    /// Sets availability; a user who becomes available takes queued conversations.
    async fn set_availability(
        &self,
        id: UserId,
        availability: Availability,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<User>>;
    /// Sets capacity; raised capacity takes queued conversations.
    async fn set_capacity(
        &self,
        id: UserId,
        capacity: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<User>>;
    /// Sets or clears (`None`) a user's working hours; outside them the user is away.
    async fn set_working_hours(
        &self,
        id: UserId,
        hours: Option<WorkingHours>,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<User>>;
    /// What time alone changes: hours that ended return unanswered live conversations
    /// to the queue, hours that began take from it.
    async fn sweep_hours(&self, now: DateTime<Utc>) -> StoreResult<Vec<Assignment>>;
    async fn create_team(&self, name: &str, members: &[UserId]) -> StoreResult<Team>;
    async fn teams(&self) -> StoreResult<Vec<Team>>;
    async fn create_inbox(&self, name: &str, kind: InboxKind) -> StoreResult<Inbox>;
    async fn inboxes(&self) -> StoreResult<Vec<Inbox>>;
    async fn inbox(&self, id: InboxId) -> StoreResult<Inbox>;
    async fn team(&self, id: TeamId) -> StoreResult<Team>;

    // --- settings and agent ---------------------------------------------------------
    async fn settings(&self) -> StoreResult<VersionedSettings>;
    /// Validates against what exists (in the same transaction), stores a new version and
    /// audits the change.
    /// With `expected_version`, refuses (`Conflict`) when the stored version is another
    /// one: someone saved meanwhile, and their change is not overwritten silently.
    async fn put_settings(
        &self,
        actor: UserId,
        settings: HandoffSettings,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<VersionedSettings>;
    async fn agent_paused(&self) -> StoreResult<bool>;
    async fn set_agent_paused(
        &self,
        actor: UserId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    // --- conversations --------------------------------------------------------------
    async fn create_conversation(
        &self,
        channel: &str,
        visitor: Visitor,
        visitor_token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation>;
    /// A new conversation that carries on `previous` (the visitor's earlier one, which
    /// the caller has checked is theirs), linked by `previous_conversation_id`.
    async fn create_following_conversation(
        &self,
        channel: &str,
        visitor: Visitor,
        visitor_token_hash: &str,
        previous: ConversationId,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation>;
    async fn conversation(&self, id: ConversationId) -> StoreResult<Conversation>;
    /// The open conversation of a messaging thread (`channel`, `thread`), created on the
    /// first message; concurrent first messages get the same one. After a close the
    /// thread goes on in a new conversation; a repeat of a message one of the thread's
    /// conversations holds (`client_message_id`) gets that one, answered as a repeat.
    async fn thread_conversation(
        &self,
        channel: &str,
        thread: &str,
        visitor: Visitor,
        client_message_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation>;
    /// A system message to the visitor outside a turn (a channel's notice), through the
    /// outbox. With `in_reply_to` (the provider's id of the message it answers) it is
    /// stored once; `None` when it already was.
    async fn notify_visitor(
        &self,
        id: ConversationId,
        text: &str,
        in_reply_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;
    /// The conversation, when `token_hash` is its visitor token; `None` when it is
    /// another conversation's. One read serves both the check and the ingest.
    async fn visitor_conversation(
        &self,
        id: ConversationId,
        token_hash: &str,
    ) -> StoreResult<Option<Conversation>>;
    /// One page of a view in its order (Unassigned: oldest handoff first; Mine: oldest
    /// first; Open and All: newest first), starting after the conversation `after` (the
    /// last of the previous page): a keyset read on an index, never an offset.
    async fn conversations(
        &self,
        view: View,
        after: Option<ConversationId>,
        limit: u64,
    ) -> StoreResult<Vec<Conversation>>;
    /// How many conversations are in Unassigned, in `user`'s Mine and in Open: read from
    /// counters the store keeps in the same transaction as every change, never counted.
    async fn view_counts(&self, user: UserId) -> StoreResult<ViewCounts>;
    /// Messages oldest first, optionally only those after `after`.
    async fn messages(
        &self,
        id: ConversationId,
        after: Option<MessageId>,
    ) -> StoreResult<Vec<Message>>;
    /// The replies first given to the visitor message with this client id, if any.
    async fn replay(
        &self,
        id: ConversationId,
        client_message_id: &str,
    ) -> StoreResult<Option<Vec<Reply>>>;
    /// Stores one visitor message with what the policy decided, in one transaction.
    async fn commit_turn(&self, turn: Turn) -> StoreResult<TurnOutcome>;
    /// Hands a conversation off without a visitor message (the visitor chose a person,
    /// B16), through the same handoff as a turn's: routing or the queue, the ticket, the
    /// available/unavailable message (a system message answering no visitor message),
    /// the audit row. `None` when the customer agent no longer holds the conversation
    /// (humans have it, or it waits for them): nothing is written. `Conflict` when it is
    /// closed.
    async fn hand_off(
        &self,
        id: ConversationId,
        plan: HandoffPlan,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<HandedOff>>;
    /// Gives a conversation back to the customer agent (B14), in one transaction: the
    /// assignee becomes the agent, a human holder's capacity is freed and the queue
    /// drains into it, a queued conversation leaves the queue, the conversation's
    /// workflow runs end, the visitor is sent `text` through the outbox, and a
    /// `handed_back` audit row names the actor and the reason. Nothing is written when
    /// the agent already holds it. `Conflict` when it is closed, or when
    /// `handback.expected` is given and someone else holds it now.
    async fn hand_back(&self, handback: Handback) -> StoreResult<HandedBack>;
    /// Opens a closed conversation again, held by the customer agent as a new
    /// conversation is (nobody's capacity is taken; a later handoff routes it afresh),
    /// with a `reopened` audit row naming `actor`; the visitor is sent `notice` through
    /// the outbox and its ticket, if any, leaves `closed` for `waiting_on_us`.
    /// `Conflict` when it is open.
    async fn reopen(
        &self,
        id: ConversationId,
        actor: UserId,
        notice: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation>;
    /// A queued conversation's 1-based place in the queue, in the order the queue drains
    /// (handoff time, then id), counted on an index; `None` when it is not queued.
    async fn queue_position(&self, id: ConversationId) -> StoreResult<Option<u64>>;
    /// Whether someone on the destination (`user_ids` and the members of `team_ids`)
    /// could take a conversation now under the routing rule of `process`: a paid seat
    /// and free capacity, and for live handoffs available within working hours.
    async fn anyone_eligible(
        &self,
        user_ids: &[UserId],
        team_ids: &[TeamId],
        process: HandoffProcess,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// A user takes a conversation that nobody holds.
    async fn claim(
        &self,
        id: ConversationId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation>;
    /// Gives a conversation to `user` under the routing rule (paid seat, capacity). When
    /// someone holds it, `from` must name them: an owner is never replaced silently.
    async fn assign(
        &self,
        id: ConversationId,
        user: UserId,
        from: Option<UserId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<Conversation>>;
    /// Gives a conversation to a member of `team` under the routing rules of a live
    /// handoff (paid seat, available, free capacity, the route's strategy), never to
    /// the one who holds it; `from` as for [`Store::assign`]. `Conflict` when no member
    /// can take it now. The first assignment is the one made.
    async fn assign_team(
        &self,
        id: ConversationId,
        team: TeamId,
        from: Option<UserId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<Conversation>>;
    /// Moves live conversations whose assignee has not replied within `timeout` to the
    /// next eligible user.
    async fn reroute_unanswered(
        &self,
        timeout: std::time::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Assignment>>;
    /// The assignee writes to the visitor.
    async fn staff_reply(
        &self,
        id: ConversationId,
        user: UserId,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Message>;
    /// Closes a conversation; the capacity it frees takes queued conversations.
    async fn close(
        &self,
        id: ConversationId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Drained<Conversation>>;
    async fn ticket(&self, id: TicketId) -> StoreResult<Ticket>;

    // --- workflows ------------------------------------------------------------------
    /// Validates against what exists and stores a new workflow.
    async fn create_workflow(
        &self,
        definition: Definition,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow>;
    /// Replaces a workflow's definition (actions added, edited, removed).
    async fn update_workflow(
        &self,
        id: WorkflowId,
        definition: Definition,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow>;
    async fn workflow(&self, id: WorkflowId) -> StoreResult<Workflow>;
    async fn workflows(&self) -> StoreResult<Vec<Workflow>>;
    /// Advances the workflow runs that are due (delays over, or interrupted by a crash),
    /// each step committed with its effect.
    async fn advance_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Assignment>>;
    /// How many conversations wait for an eligible user.
    async fn queue_length(&self) -> StoreResult<u64>;

    // --- outbox and audit -----------------------------------------------------------
    /// Claims up to `limit` undelivered outbox rows due at `now` (not failed, not waiting
    /// to retry, not claimed by another host) until `lease_until`: hosts sharing the
    /// database never send one row together, and rows claimed by a host that died are
    /// due again when the lease ends. Settling a row (delivered, retry, failed) ends it.
    async fn claim_outbox(
        &self,
        limit: u64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<OutboxItem>>;
    /// At the start of a host that is alone on its database (SQLite): the claims of the
    /// process before it are void. Returns how many rows were freed; does nothing where
    /// several hosts may share the database.
    async fn release_outbox_claims(&self) -> StoreResult<u64>;
    async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()>;
    /// Counts an attempt that will be retried at `retry_at`.
    async fn mark_retry(
        &self,
        id: i64,
        retry_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Gives up on a row: it is never tried again.
    async fn mark_failed(&self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Audit events newest first, at most `limit`, only those with an id below `before`
    /// when given (the next page), only those of `kind` when given. One keyset page: the
    /// cost does not grow with the size of the log.
    async fn audit(
        &self,
        limit: u64,
        before: Option<i64>,
        kind: Option<&str>,
    ) -> StoreResult<Vec<AuditEvent>>;

    // --- outgoing webhooks (B15) ------------------------------------------------------
    /// Subscribes `url` to `events` (names from `WEBHOOK_EVENT_TYPES`, or `"*"`), signing
    /// with `secret`. Audited as `webhook_created`.
    async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        secret: &str,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// Removes a subscription and its pending deliveries. Audited as `webhook_deleted`.
    async fn delete_webhook(&self, id: i64, actor: UserId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Attempts to deliver to webhook `id`, newest first, below `before` when given.
    async fn webhook_attempts(
        &self,
        id: i64,
        limit: u64,
        before: Option<i64>,
    ) -> StoreResult<Vec<WebhookAttempt>>;
    /// Makes the failed deliveries of webhook `id` due again and re-enables it; returns
    /// how many will be sent.
    async fn replay_webhook(&self, id: i64, actor: UserId, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Claims up to `limit` deliveries due at `now` until `lease_until` (so a sweep does
    /// not take them again while they are in flight; a crash frees them at the lease).
    async fn claim_webhook_deliveries(
        &self,
        limit: u64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookDelivery>>;
    /// Records a batch of attempts and what follows each, in one transaction.
    async fn record_webhook_attempts(&self, outcomes: &[WebhookOutcome]) -> StoreResult<()>;
    /// Deletes webhook history older than `before`, at most `limit` rows of each table:
    /// attempts, and deliveries settled (delivered or given up on). Returns how many rows
    /// went; the caller repeats while that is not 0.
    async fn prune_webhook_history(&self, before: DateTime<Utc>, limit: u64) -> StoreResult<u64>;

    // --- sign-in: passwords, set-password links, sessions (B13) ----------------------
    /// The user whose sign-in email is `email` (compared case-insensitively), with the
    /// PHC string of their password when one is set.
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<Credentials>>;
    /// Stores a one-time set-password link (the hash of its token) for `user`, valid
    /// until `expires_at`. The user's earlier unused links stop working.
    async fn create_password_link(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user a link is for, while it is unused and unexpired.
    async fn password_link_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>>;
    /// Sets a password through a link, in one transaction: the link is used up, the
    /// password stored, and every session of the user revoked. `NotFound` when the link
    /// is unknown, used or expired (a concurrent second use loses).
    async fn redeem_password_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    /// A signed-in user changes their password: every other session of theirs is
    /// revoked, `keep_session` (the hash of the session making the change) stays.
    async fn change_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user of a live session: not revoked, before its absolute expiry, and used
    /// within `idle`. Records the use (at most once a minute, to spare writes).
    async fn session_user(
        &self,
        token_hash: &str,
        idle: std::time::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>>;
    /// Revokes a session (sign-out); unknown hashes are ignored.
    async fn revoke_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Changes a user's name, seat and permissions. Refuses, naming the field: a seat
    /// without pay for a user the handoff settings route to (`seat`), and taking
    /// `admin` from the last admin (`permissions`). Audited as `user_changed`.
    async fn update_user(
        &self,
        id: UserId,
        changes: UserChanges,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
}
