//! Live events across hosts (DESIGN, Scale-out): each host forwards the events it
//! originates with PostgreSQL `NOTIFY`, and re-publishes what the others `NOTIFY` into
//! its own engine, so an SSE stream on host B sees a reply written on host A, and a
//! settings change on A applies to B's next decision.
//!
//! A notification carries ids, not texts (NOTIFY payloads stop at 8,000 bytes and a
//! message may be 64 KiB): the receiving host reads the message row itself. Channels are
//! named per schema, since NOTIFY is database-wide and several installations (or test
//! runs) may share a database.

use std::time::Duration;

use baton_core::ids::{ConversationId, UserId};
use baton_engine::model::{Assignment, HandbackReason};
use baton_engine::{Engine, Event};
use rand::RngCore;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{DbBackend, EntityTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;

use crate::connect::SeaStore;
use crate::convert;
use crate::entity::message;

/// What crosses hosts: enough to rebuild the event from the database.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The sending host, so a host ignores its own notifications.
    host: String,
    #[serde(flatten)]
    event: WireEvent,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireEvent {
    Message {
        message_id: i64,
    },
    Assigned {
        conversation_id: i64,
        user_id: i64,
        waited_seconds: f64,
        rule: String,
    },
    Closed {
        conversation_id: i64,
    },
    HandedBack {
        conversation_id: i64,
        from_user_id: Option<i64>,
        reason: String,
    },
    Reopened {
        conversation_id: i64,
    },
    SettingsChanged,
}

/// Longest rule text sent along an assignment; the audit log keeps the whole sentence.
const MAX_RULE_BYTES: usize = 2_000;

/// Forwards and receives events for one engine on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgRelay {
    store: SeaStore,
    channel: String,
    host: String,
}

impl SeaStore {
    /// The cross-host relay on PostgreSQL; `None` on SQLite, where one host holds the
    /// database and events never need to travel.
    pub fn relay(&self, schema: Option<&str>) -> Option<PgRelay> {
        if self.backend() != DbBackend::Postgres {
            return None;
        }
        let digest = hex::encode(Sha256::digest(schema.unwrap_or("public").as_bytes()));
        let mut host = [0u8; 8];
        rand::rng().fill_bytes(&mut host);
        Some(PgRelay {
            store: self.clone(),
            channel: format!("baton_events_{}", &digest[..16]),
            host: hex::encode(host),
        })
    }
}

impl PgRelay {
    /// Runs until the process ends: forwards this host's events and re-publishes the
    /// others'. Connection losses are logged and retried.
    pub async fn run(self, engine: Engine) {
        let forward = tokio::spawn(self.clone().forward(engine.clone()));
        self.listen(engine).await;
        forward.abort();
    }

    async fn forward(self, engine: Engine) {
        let mut local = engine.subscribe_local();
        loop {
            let event = match local.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, stage = "relay", "events dropped before forwarding");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let wire = Wire {
                host: self.host.clone(),
                event: to_wire(event),
            };
            let Ok(payload) = serde_json::to_string(&wire) else {
                continue;
            };
            let pool = self.store.connection().get_postgres_connection_pool();
            if let Err(error) = sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.channel)
                .bind(&payload)
                .execute(pool)
                .await
            {
                tracing::warn!(%error, stage = "relay", "notify failed");
            }
        }
    }

    async fn listen(&self, engine: Engine) {
        loop {
            if let Err(error) = self.listen_once(&engine).await {
                tracing::warn!(%error, stage = "relay", "listening failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn listen_once(&self, engine: &Engine) -> Result<(), sea_orm::sqlx::Error> {
        let pool = self.store.connection().get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(&self.channel).await?;
        tracing::info!(channel = %self.channel, "relaying events between hosts");
        loop {
            let notification = listener.recv().await?;
            let wire: Wire = match serde_json::from_str(notification.payload()) {
                Ok(wire) => wire,
                Err(error) => {
                    tracing::warn!(%error, stage = "relay", "unreadable notification");
                    continue;
                }
            };
            if wire.host == self.host {
                continue;
            }
            if let Some(event) = self.rebuild(wire.event).await {
                engine.publish_foreign(event).await;
            }
        }
    }

    async fn rebuild(&self, event: WireEvent) -> Option<Event> {
        match event {
            WireEvent::Message { message_id } => {
                let row = message::Entity::find_by_id(message_id)
                    .one(self.store.connection())
                    .await
                    .ok()??;
                convert::message(row).ok().map(Event::Message)
            }
            WireEvent::Assigned {
                conversation_id,
                user_id,
                waited_seconds,
                rule,
            } => Some(Event::Assigned(Assignment {
                conversation_id: ConversationId(conversation_id),
                user_id: UserId(user_id),
                waited_seconds,
                rule,
            })),
            WireEvent::Closed { conversation_id } => {
                Some(Event::Closed(ConversationId(conversation_id)))
            }
            WireEvent::HandedBack {
                conversation_id,
                from_user_id,
                reason,
            } => Some(Event::HandedBack {
                conversation_id: ConversationId(conversation_id),
                from_user: from_user_id.map(UserId),
                reason: match reason.as_str() {
                    "visitor" => HandbackReason::Visitor,
                    _ => HandbackReason::Staff,
                },
            }),
            WireEvent::Reopened { conversation_id } => {
                Some(Event::Reopened(ConversationId(conversation_id)))
            }
            WireEvent::SettingsChanged => Some(Event::SettingsChanged),
        }
    }
}

fn to_wire(event: Event) -> WireEvent {
    match event {
        Event::Message(m) => WireEvent::Message { message_id: m.id.0 },
        Event::Assigned(a) => {
            let mut rule = a.rule;
            if rule.len() > MAX_RULE_BYTES {
                let mut end = MAX_RULE_BYTES;
                while !rule.is_char_boundary(end) {
                    end -= 1;
                }
                rule.truncate(end);
            }
            WireEvent::Assigned {
                conversation_id: a.conversation_id.0,
                user_id: a.user_id.0,
                waited_seconds: a.waited_seconds,
                rule,
            }
        }
        Event::Closed(id) => WireEvent::Closed {
            conversation_id: id.0,
        },
        Event::HandedBack {
            conversation_id,
            from_user,
            reason,
        } => WireEvent::HandedBack {
            conversation_id: conversation_id.0,
            from_user_id: from_user.map(|u| u.0),
            reason: reason.as_str().to_owned(),
        },
        Event::Reopened(id) => WireEvent::Reopened {
            conversation_id: id.0,
        },
        Event::SettingsChanged => WireEvent::SettingsChanged,
    }
}
