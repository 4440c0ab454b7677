//! The records the engine reads and writes through its ports. They are the engine's
//! vocabulary, not wire types: HTTP DTOs and database rows convert to and from them at
//! the edges.

use baton_core::decision::{HandoffProcess, Trigger};
use baton_core::hours::WorkingHours;
use baton_core::ids::{ConversationId, InboxId, MessageId, TeamId, TicketId, UserId, WorkflowId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::HandoffSettings;
use baton_workflows::Definition;
use std::sync::Arc;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub seat: Seat,
    pub permissions: Vec<Permission>,
    pub capacity: u32,
    pub availability: Availability,
    pub open_conversations: u32,
    /// `None`: always within hours (only the manual switch counts).
    pub working_hours: Option<WorkingHours>,
}

impl User {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub seat: Seat,
    pub permissions: Vec<Permission>,
    pub capacity: u32,
}

/// What an admin may change of a user besides capacity, availability and hours (which
/// have their own calls because they move conversations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChanges {
    pub name: String,
    pub seat: Seat,
    pub permissions: Vec<Permission>,
}

/// A user as sign-in sees them: the PHC string of their password, if one is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user.id)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub user_ids: Vec<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxKind {
    Inbox,
    HelpDesk,
}

impl InboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxKind::Inbox => "inbox",
            InboxKind::HelpDesk => "help_desk",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    pub id: InboxId,
    pub name: String,
    pub kind: InboxKind,
}

/// The stored settings with their version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedSettings {
    pub version: i64,
    pub settings: HandoffSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationStatus {
    Open,
    Closed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Closed => "closed",
        }
    }
}

/// Who holds a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    /// The customer agent answers.
    Agent,
    /// A human holds it; the agent stays silent.
    User(UserId),
    /// Handed off, waiting for a human (queued), or left unassigned.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visitor {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// What was recorded when the conversation was handed off (B5, B6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRecord {
    pub trigger_kind: String,
    pub matched: Option<String>,
    pub process: HandoffProcess,
    pub at: DateTime<Utc>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub channel: String,
    pub status: ConversationStatus,
    pub assignee: Assignee,
    pub visitor: Visitor,
    pub inbox_id: Option<InboxId>,
    pub handoff: Option<HandoffRecord>,
    /// Waiting in the queue for an eligible user.
    pub queued: bool,
    /// The help-desk ticket the handoff made, if any.
    pub ticket_id: Option<TicketId>,
    /// The visitor's earlier conversation (closed) that this one carries on, if any.
    pub previous_conversation_id: Option<ConversationId>,
    pub created_at: DateTime<Utc>,
}

impl Conversation {
    /// Who may give it back to the customer agent: its holder or an admin; anyone when
    /// no human holds it.
    pub fn may_hand_back(&self, user: &User) -> bool {
        match self.assignee {
            Assignee::User(holder) => holder == user.id || user.has(Permission::Admin),
            Assignee::Agent | Assignee::None => true,
        }
    }
}

/// A stored workflow definition (F9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub id: WorkflowId,
    pub definition: Definition,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A help-desk ticket (F5). Its owner is its conversation's assignee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub conversation_id: ConversationId,
    pub owner_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub inbox_id: InboxId,
    pub source_channel: String,
    pub status: String,
    pub priority: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Visitor,
    Agent,
    System,
    User,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Visitor => "visitor",
            Author::Agent => "agent",
            Author::System => "system",
            Author::User => "user",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub author: Author,
    pub author_user_id: Option<UserId>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// What the visitor sees in answer to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub author: Author,
    pub text: String,
}

/// Conversation lists for the human side (B8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Open, handed off, no human holds it (the queue first, oldest first).
    Unassigned,
    /// Open and held by the caller.
    Mine(UserId),
    /// Every open conversation.
    Open,
    /// Everything.
    All,
}

/// How many conversations the staff views hold, exact at the moment of reading: the
/// store keeps them as conversations change, so reading them costs the same however many
/// conversations are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ViewCounts {
    /// [`View::Unassigned`].
    pub unassigned: u64,
    /// [`View::Mine`] of the user asked about.
    pub mine: u64,
    /// [`View::Open`].
    pub open: u64,
}

/// One visitor message and what the policy decided for it, to be stored in one
/// transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub conversation_id: ConversationId,
    pub text: String,
    pub client_message_id: Option<String>,
    pub action: TurnAction,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TurnAction {
    /// Store the message only (a human holds the conversation, or nobody answers).
    Store,
    /// The agent answers.
    Reply(String),
    /// Hand off to humans.
    Handoff(Box<HandoffPlan>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandoffPlan {
    pub trigger: Trigger,
    pub process: HandoffProcess,
    pub settings_version: i64,
    /// Shared with the engine's snapshot: thousands of phrases are not copied per handoff.
    pub settings: Arc<HandoffSettings>,
    pub explanation: String,
    pub summary: String,
}

/// A conversation given to a user, by a handoff or from the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// How long the conversation waited since its handoff, in seconds.
    pub waited_seconds: f64,
    /// Which rule chose the user, for the audit log.
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    /// The message was new and is stored; `replies` is what the visitor sees.
    Stored {
        visitor_message: Message,
        replies: Vec<Message>,
        handoff: Option<HandoffOutcome>,
    },
    /// The `client_message_id` was seen before: nothing stored, the first replies.
    Duplicate { replies: Vec<Reply> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandoffOutcome {
    pub trigger_kind: String,
    pub process: HandoffProcess,
    pub assignment: Option<Assignment>,
}

/// A handoff committed outside a visitor message (the visitor's choice, B16): the message
/// the visitor is shown (the settings' available or unavailable text) and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct HandedOff {
    pub message: Message,
    pub outcome: HandoffOutcome,
}

/// Who gave a conversation back to the customer agent (B14), as the audit row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandbackReason {
    /// A staff member (the assignee, an admin, or anyone for a conversation nobody holds).
    Staff,
    /// The visitor chose "talk to the assistant again".
    Visitor,
}

impl HandbackReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HandbackReason::Staff => "staff",
            HandbackReason::Visitor => "visitor",
        }
    }
}

/// A conversation going back to the customer agent (B14), to be stored in one
/// transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Handback {
    pub conversation_id: ConversationId,
    pub reason: HandbackReason,
    /// The staff member who handed back; `None` for the visitor.
    pub actor: Option<UserId>,
    /// The holder the caller checked its permission against: when given and someone
    /// else holds the conversation by the time of the write, it is refused (`Conflict`)
    /// rather than taken from them.
    pub expected: Option<Assignee>,
    /// The system message the visitor is sent.
    pub text: String,
    pub now: DateTime<Utc>,
}

/// What a handback did.
#[derive(Debug, Clone, PartialEq)]
pub struct HandedBack {
    pub conversation: Conversation,
    /// The notice sent to the visitor; `None` when the customer agent already held the
    /// conversation and nothing changed.
    pub message: Option<Message>,
    /// The human whose capacity was freed, if a human held it.
    pub from_user: Option<UserId>,
    /// Queued conversations that took the freed capacity.
    pub assignments: Vec<Assignment>,
}

/// What the visitor's side of a conversation shows (B7, B16).
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorView {
    pub conversation: Conversation,
    /// The name of the human who holds the conversation.
    pub assignee_name: Option<String>,
    /// 1-based place in the queue; `None` when not queued.
    pub queue_position: Option<u64>,
    /// Whether the widget offers "assistant or person" up front: the setting is on and
    /// the process hands off.
    pub visitor_choice: bool,
    /// When the choice is offered and the customer agent holds the conversation: whether
    /// someone could take it now under the routing rule. `None` otherwise, and for a
    /// workflow destination (the workflow decides).
    pub humans_available: Option<bool>,
}

/// An outgoing message waiting for its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub channel: String,
    /// The provider's thread (a chat id, a phone number) for messaging channels.
    pub thread: Option<String>,
    pub message: Message,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor_user_id: Option<UserId>,
    pub conversation_id: Option<ConversationId>,
    pub detail: serde_json::Value,
}

/// The event types an outgoing webhook can subscribe to (B15); `"*"` subscribes to all.
pub const WEBHOOK_EVENT_TYPES: &[&str] = &[
    "conversation.created",
    "message.created",
    "conversation.handoff",
    "conversation.assigned",
    "conversation.queued",
    "conversation.rerouted",
    "conversation.handed_back",
    "conversation.closed",
    "conversation.reopened",
    "ticket.created",
    "ticket.updated",
    "settings.updated",
];

/// An outgoing webhook subscription. The secret is not here: it is shown once, when
/// created, and read back only by the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// Event type names, or `["*"]`.
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Set when the endpoint was disabled (410, or failing for days); nothing is sent
    /// to it until a replay re-enables it.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// The first failed attempt since the last success, while it keeps failing.
    pub failing_since: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt, when one came back.
    pub last_status: Option<u16>,
}

/// One event due for one endpoint, claimed by the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    /// The `webhook-id` header: the same for every attempt (and every endpoint).
    pub event_id: String,
    /// The JSON body `{"type", "timestamp", "data"}`, stored as sent.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What follows an attempt to deliver a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookNext {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// Given up on this delivery (it stays failed until a replay).
    GiveUp,
    /// Given up, and the endpoint is disabled for `reason` (audited `webhook_disabled`).
    Disable(String),
}

/// How one attempt to deliver a webhook went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOutcome {
    pub delivery_id: i64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub next: WebhookNext,
    pub at: DateTime<Utc>,
}

/// One attempt, as `GET /webhooks/{id}/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub id: i64,
    pub delivery_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub at: DateTime<Utc>,
    /// `delivered`, `retrying` or `failed`.
    pub outcome: String,
    pub status: Option<u16>,
    pub error: Option<String>,
}
