//! The email channel's inbound core: raw RFC 5322 bytes parsed into an [`InboundMail`]
//! (`parse`), the new text of a reply separated from the quoted history (`trim`, with the
//! HTML quote containers of the common clients removed in `html`), and the mail classified
//! as human, auto-reply, bounce, mailing list or our own (`classify`).
//!
//! Everything here is pure: no IO, no async, no clock. It never panics on mail content,
//! whatever the bytes: the IMAP and SMTP layers call it on whatever a server hands them.

pub mod classify;
mod fields;
pub mod html;
pub mod mail;
pub mod parse;
pub mod trim;

pub use classify::{Classification, Kind, LOOP_HEADER, Ours, classify};
pub use mail::{Address, Attachment, InboundMail};
pub use parse::{ParseError, ParseOptions, parse};
