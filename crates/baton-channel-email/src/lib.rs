//! The email channel's inbound core: raw RFC 5322 bytes parsed into an [`InboundMail`]
//! (`parse`), the new text of a reply separated from the quoted history (`trim`, with the
//! HTML quote containers of the common clients removed in `html`), and the mail classified
//! as human, auto-reply, bounce, mailing list or our own (`classify`).
//!
//! That core is pure: no IO, no async, no clock. It never panics on mail content,
//! whatever the bytes: the IMAP and SMTP layers call it on whatever a server hands them.
//!
//! Around it, the channel: `config` (`[[email.mailboxes]]`), `imap` (one reader per
//! mailbox, progress by UIDVALIDITY and UID), `inbound` (kept raw, then parsed, classified,
//! threaded and ingested), `threading` (Message-IDs, reply addresses, subject tags),
//! `smtp` (the outbox's `Deliverer` for channel `email`) and `channel` (the running
//! mailboxes, their state and quarantine).

pub mod channel;
pub mod classify;
pub mod config;
mod fields;
pub mod html;
mod imap;
pub mod inbound;
pub mod mail;
pub mod parse;
pub mod smtp;
pub mod threading;
pub mod tls;
pub mod trim;

pub use channel::{Email, MailboxStatus, RetryError};
pub use classify::{Classification, Kind, LOOP_HEADER, Ours, classify};
pub use config::{EmailConfig, MailboxConfig};
pub use imap::MailboxState;
pub use mail::{Address, Attachment, InboundMail};
pub use parse::{ParseError, ParseOptions, parse};
pub use smtp::EmailDeliverer;
pub use tls::{TlsError, Trust};
