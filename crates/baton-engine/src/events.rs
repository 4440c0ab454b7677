//! Events for live views (chat SSE, the human inbox), published after commit.

use baton_core::ids::{ConversationId, UserId};

use crate::model::{Assignment, HandbackReason, Message};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message was stored in a conversation (any author).
    Message(Message),
    /// A conversation was given to a user.
    Assigned(Assignment),
    /// A conversation was closed.
    Closed(ConversationId),
    /// A conversation went back to the customer agent (B14); `from_user` is the human
    /// who held it, if one did.
    HandedBack {
        conversation_id: ConversationId,
        from_user: Option<UserId>,
        reason: HandbackReason,
    },
    /// A closed conversation was opened again (held by the customer agent).
    Reopened(ConversationId),
    /// The handoff settings or the agent switch changed: decisions must re-read them.
    SettingsChanged,
}

impl Event {
    /// The conversation the event is about, if any.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self {
            Event::Message(m) => Some(m.conversation_id),
            Event::Assigned(a) => Some(a.conversation_id),
            Event::Closed(id) | Event::Reopened(id) => Some(*id),
            Event::HandedBack {
                conversation_id, ..
            } => Some(*conversation_id),
            Event::SettingsChanged => None,
        }
    }
}
