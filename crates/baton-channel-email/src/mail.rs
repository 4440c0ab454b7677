//! What a parsed inbound mail is: the fields threading, classification and the
//! conversation need, the whole text for staff and the new text for the triggers.

use chrono::{DateTime, Utc};

/// An inbound mail, parsed. Message ids are bare (`local@domain`, without angle brackets),
/// as they are compared when threading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// The mail's Message-ID, or one derived from a hash of its raw bytes when it has none
    /// (so a refetched copy gets the same one); see `message_id_derived`.
    pub message_id: String,
    pub message_id_derived: bool,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub subject: Option<String>,
    pub date: Option<DateTime<Utc>>,
    /// The whole message as text, for staff: the text/plain part, else the HTML as text.
    pub text: String,
    /// What the writer wrote, without quoted history, forwarded headers and signatures:
    /// what triggers and the customer agent see.
    pub new_text: String,
    pub attachments: Vec<Attachment>,
    /// The top-level header fields, in order, with their raw (unfolded) values.
    pub headers: Vec<(String, String)>,
    /// What a delivery report (a bounce) says about the message it reports on.
    pub report: Report,
}

impl InboundMail {
    /// The first top-level header field called `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
    }
}

/// A mailbox: its address and display name, either of which may be missing in bad mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub address: Option<String>,
    pub name: Option<String>,
}

/// An attachment: always its metadata; its content only up to the configured limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// The decoded content, or `None` when it is over the limit.
    pub content: Option<Vec<u8>>,
}

/// The MIME facts a bounce is recognised and matched by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The top level is `multipart/report; report-type=delivery-status` (RFC 3464).
    pub delivery_status: bool,
    /// The Message-ID of the message a report returns, from its `message/rfc822` or
    /// `text/rfc822-headers` part or an `Original-Message-ID` field.
    pub original_message_id: Option<String>,
}
