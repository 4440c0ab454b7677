//! Integer ids, one newtype per entity so that a user id is never passed where a team id
//! is expected.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A human team member.
    UserId
);
id!(
    /// A named group of users.
    TeamId
);
id!(
    /// A shared inbox or a help desk.
    InboxId
);
id!(
    /// A ticket-based workflow.
    WorkflowId
);
id!(
    /// One thread with a visitor on one channel.
    ConversationId
);
id!(
    /// One message of a conversation.
    MessageId
);
id!(
    /// A help-desk ticket made from a conversation.
    TicketId
);
