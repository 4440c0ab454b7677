//! Events for live views (chat SSE, the human inbox), published after commit.

use baton_core::ids::ConversationId;

use crate::model::{Assignment, Message};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message was stored in a conversation (any author).
    Message(Message),
    /// A conversation was given to a user.
    Assigned(Assignment),
    /// A conversation was closed.
    Closed(ConversationId),
    /// The handoff settings or the agent switch changed: decisions must re-read them.
    SettingsChanged,
}

impl Event {
    /// The conversation the event is about, if any.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self {
            Event::Message(m) => Some(m.conversation_id),
            Event::Assigned(a) => Some(a.conversation_id),
            Event::Closed(id) => Some(*id),
            Event::SettingsChanged => None,
        }
    }
}
