//! Persistence for Baton on SQLite (the embedded default) and PostgreSQL (several hosts),
//! through sea-orm. Implements the engine's [`Store`](baton_engine::Store) port.
//!
//! Invariants:
//! - every state change is one transaction, outbox and audit rows included;
//! - assignments are conditional updates (`open_count < capacity`, conversation not held
//!   by someone else) on rows locked for the transaction, so no path can overrun a
//!   capacity or give a conversation two owners, on one host or several;
//! - on SQLite the pool has one connection: SQLite has one writer anyway, and a single
//!   connection turns lock contention into an orderly queue.

mod assign;
mod connect;
mod convert;
mod counts;
mod email;
mod entity;
mod handback;
mod migration;
mod outbox;
mod people;
mod relay;
mod routes;
mod routing;
mod runs;
mod settings;
mod sign_in;
mod store;
mod threads;
mod tickets;
mod turns;
mod webhook_retention;
mod webhooks;
mod workflows;

pub use connect::{ConnectError, SeaStore};
pub use email::{EmailThread, MailOutcome, MailStatus, SentMessage, StoredMail, ThreadMessageId};
pub use migration::Migrator;
pub use relay::PgRelay;

use baton_engine::StoreError;
use sea_orm::DbErr;

pub(crate) fn backend(error: DbErr) -> StoreError {
    StoreError::Backend(error.to_string())
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;
