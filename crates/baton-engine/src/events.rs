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
}

impl Event {
    pub fn conversation_id(&self) -> ConversationId {
        match self {
            Event::Message(m) => m.conversation_id,
            Event::Assigned(a) => a.conversation_id,
            Event::Closed(id) => *id,
        }
    }
}
