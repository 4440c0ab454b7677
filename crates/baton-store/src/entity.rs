//! sea-orm entities, one module per table. Times are unix microseconds (`i64`) so that
//! ordering and arithmetic are the same on SQLite and PostgreSQL.
#![allow(unreachable_pub)] // the derive macros generate `pub` items

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod user {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub email: String,
        pub seat: String,
        /// Comma-separated permission names.
        pub permissions: String,
        pub capacity: i64,
        pub availability: String,
        /// Open conversations assigned to the user; kept in step by every claim and
        /// close so that a capacity check is one conditional update.
        pub open_count: i64,
        pub last_assigned_at: Option<i64>,
        /// `last_assigned_at`, with `i64::MIN` for never: the balanced index's key.
        pub idle_since: i64,
        /// JSON `{"time_zone": "...", "days": {"mon": [["09:00", "17:00"]]}}`; unset means
        /// always within hours.
        pub working_hours: Option<String>,
        pub created_at: i64,
        /// The PHC string of the user's password (argon2id); unset until one is set
        /// through a set-password link.
        pub password_hash: Option<String>,
    }
    no_relations!();
}

pub mod token {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod team {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "teams")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod team_member {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "team_members")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub team_id: i64,
        pub user_id: i64,
    }
    no_relations!();
}

pub mod inbox {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inboxes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub kind: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod settings {
    use sea_orm::entity::prelude::*;
    /// One row per settings version; the current settings are the highest id.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settings_versions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document: String,
        pub actor_user_id: Option<i64>,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod agent_state {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_state")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub paused: bool,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod conversation {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel: String,
        pub status: String,
        /// "agent", "user" or "none".
        pub assignee_kind: String,
        pub assignee_user_id: Option<i64>,
        pub visitor_name: Option<String>,
        pub visitor_email: Option<String>,
        pub visitor_token_hash: String,
        pub inbox_id: Option<i64>,
        pub handoff_trigger: Option<String>,
        pub handoff_matched: Option<String>,
        pub handoff_process: Option<String>,
        pub handoff_at: Option<i64>,
        pub handoff_summary: Option<String>,
        /// Waiting for an eligible user.
        pub queued: bool,
        /// The users this conversation may go to (JSON array of ids), fixed at handoff.
        pub route_user_ids: Option<String>,
        /// The route (`routes.id`); older rows have only `route_user_ids`.
        pub route_id: Option<i64>,
        /// The provider's thread for messaging channels (a chat id, a phone number).
        pub thread: Option<String>,
        /// `round_robin` or `balanced`; unset means round robin.
        pub route_strategy: Option<String>,
        /// A human has written in the conversation since its handoff: it stays with its
        /// assignee when they go away.
        pub human_replied: bool,
        /// When the current assignee got it (unix microseconds).
        pub assigned_at: Option<i64>,
        /// The help-desk ticket the handoff made, if any.
        pub ticket_id: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
        /// The visitor's earlier conversation, closed by staff, that this one carries on.
        pub previous_conversation_id: Option<i64>,
    }
    no_relations!();
}

pub mod message {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub conversation_id: i64,
        pub author: String,
        pub author_user_id: Option<i64>,
        pub text: String,
        pub client_message_id: Option<String>,
        /// For replies: the visitor message they answer (replayed on a repeat).
        pub reply_to: Option<i64>,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod outbox {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub conversation_id: i64,
        pub message_id: i64,
        pub channel: String,
        pub attempts: i64,
        pub created_at: i64,
        pub delivered_at: Option<i64>,
        /// Not tried again before this time (a provider asked to retry).
        pub retry_at: Option<i64>,
        /// Given up on: the provider refused for good.
        pub failed_at: Option<i64>,
        pub last_error: Option<String>,
        /// Being sent by a host until this time; a crash frees the row when it passes.
        pub claimed_until: Option<i64>,
    }
    no_relations!();
}

pub mod audit {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: i64,
        pub kind: String,
        pub actor_user_id: Option<i64>,
        pub conversation_id: Option<i64>,
        pub detail: String,
    }
    no_relations!();
}

pub mod ticket {
    use sea_orm::entity::prelude::*;
    /// A help-desk ticket; its owner is its conversation's assignee.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tickets")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub conversation_id: i64,
        pub inbox_id: i64,
        pub team_id: Option<i64>,
        pub source_channel: String,
        pub status: String,
        pub priority: String,
        /// JSON object of free properties.
        pub properties: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod workflow {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflows")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The definition as JSON (`baton_workflows::Definition`).
        pub definition: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod workflow_run {
    use sea_orm::entity::prelude::*;
    /// One enrolment of a ticket in a workflow, advanced step by step.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub workflow_id: i64,
        pub conversation_id: i64,
        pub ticket_id: i64,
        /// The definition as it was at enrolment (JSON).
        pub definition: String,
        /// Where the run stands (`baton_workflows::Cursor`, JSON).
        pub cursor: String,
        /// `live` or `async`: the handoff's process.
        pub process: String,
        /// What the visitor is told if the run ends with nobody assigned.
        pub unassigned_message: String,
        /// Live handoffs left unassigned close the chat (F8) instead of keeping it open.
        pub close_if_unassigned: bool,
        /// `running`, `waiting` or `done`.
        pub status: String,
        pub wake_at: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod route {
    use sea_orm::entity::prelude::*;
    /// A destination's members, interned once per spec (named users and teams).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "routes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// `u:1,2;t:3`: sorted user ids and team ids, the route's identity.
        #[sea_orm(unique)]
        pub spec: String,
        pub members: i64,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod route_member {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "route_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub route_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
    }
    no_relations!();
}

pub mod thread {
    use sea_orm::entity::prelude::*;
    /// A messaging thread's current conversation; the row is also the lock that makes
    /// concurrent first messages share one conversation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "threads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub channel: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub thread: String,
        /// 0 until the first conversation exists.
        pub conversation_id: i64,
    }
    no_relations!();
}

pub mod routing_cursor {
    use sea_orm::entity::prelude::*;
    /// The last user assigned per destination key, so round robin is fair across
    /// restarts (and hosts).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "routing_cursors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub last_user_id: i64,
    }
    no_relations!();
}

pub mod password_link {
    use sea_orm::entity::prelude::*;
    /// A one-time set-password link, by the hash of its token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "password_links")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: i64,
        pub expires_at: i64,
        /// Redeemed, or replaced by a newer link: it no longer works.
        pub used_at: Option<i64>,
    }
    no_relations!();
}

pub mod session {
    use sea_orm::entity::prelude::*;
    /// A signed-in browser, by the hash of its cookie token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: i64,
        /// Last use, recorded at most once a minute: the idle timeout runs from here.
        pub last_seen_at: i64,
        /// The absolute expiry, whatever the use.
        pub expires_at: i64,
        pub revoked_at: Option<i64>,
    }
    no_relations!();
}

pub mod webhook {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub url: String,
        /// JSON array of event type names, or `["*"]`.
        pub events: String,
        /// `whsec_` and base64: kept to sign, never shown again.
        pub secret: String,
        pub created_at: i64,
        pub disabled_at: Option<i64>,
        pub disabled_reason: Option<String>,
        pub failing_since: Option<i64>,
        pub last_attempt_at: Option<i64>,
        pub last_status: Option<i64>,
    }
    no_relations!();
}

pub mod webhook_delivery {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub webhook_id: i64,
        pub event_id: String,
        pub event_type: String,
        pub conversation_id: Option<i64>,
        pub body: String,
        pub attempts: i64,
        pub created_at: i64,
        pub next_attempt_at: Option<i64>,
        pub delivered_at: Option<i64>,
        pub failed_at: Option<i64>,
    }
    no_relations!();
}

pub mod webhook_attempt {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub webhook_id: i64,
        pub delivery_id: i64,
        pub event_id: String,
        pub event_type: String,
        pub at: i64,
        pub outcome: String,
        pub status: Option<i64>,
        pub error: Option<String>,
    }
    no_relations!();
}
