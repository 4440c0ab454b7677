//! The web chat channel (B1): the visitor's HTTP API and a server-sent event stream of
//! the conversation's messages.
//!
//! Invariants: a visitor reaches only the conversation their token was issued for; the
//! channel never decides anything itself, it hands every message to the engine.

mod routes;
mod sse;

pub use routes::{
    ChatMessage, ChatMessages, ChatOptions, ChatReplies, ChatReply, Choice, CreateConversation,
    CreatedConversation, PostMessage, PreviousConversation, TalkToDto, VisitorAssignee,
    VisitorConversation, VisitorDetails, VisitorState, router,
};

/// The channel name stored on conversations and used in metrics labels.
pub const CHANNEL: &str = "chat";

/// OpenAPI descriptions of the visitor API, merged into the server's document.
pub mod openapi {
    pub use crate::routes::{
        __path_choose, __path_create_conversation, __path_get_conversation, __path_list_messages,
        __path_options, __path_post_message,
    };
    pub use crate::sse::__path_events;
}
