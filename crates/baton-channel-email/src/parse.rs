//! Raw RFC 5322 bytes into an [`InboundMail`], with mail-parser (Stalwart's): MIME
//! structure, transfer encodings and the charsets it knows (encoding_rs behind
//! `full_encoding`, for the CJK and other multi-byte ones).

use std::panic::AssertUnwindSafe;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::fields::{bare_id, message_id_field};
use crate::mail::{Address, Attachment, InboundMail, Report};
use crate::{html, trim};

/// The domain of message ids derived for mail that has none: reserved, so it never
/// collides with a real one.
pub const DERIVED_ID_DOMAIN: &str = "baton.invalid";

/// Limits that keep one mail from taking the process down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// A larger raw message is refused before it is parsed.
    pub max_message_bytes: usize,
    /// A larger attachment keeps its metadata but not its content.
    pub max_attachment_bytes: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_message_bytes: 50 * 1024 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Why a raw message could not become an [`InboundMail`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the message is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the message is empty")]
    Empty,
    #[error("the bytes are not an RFC 5322 message")]
    Malformed,
}

/// Parses `raw` into an [`InboundMail`]: fields, text, new text, attachments and the facts
/// classification needs. Never panics, whatever the bytes.
pub fn parse(raw: &[u8], options: &ParseOptions) -> Result<InboundMail, ParseError> {
    if raw.len() > options.max_message_bytes {
        return Err(ParseError::TooLarge {
            size: raw.len(),
            limit: options.max_message_bytes,
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let message = parse_mime(raw)?;

    let (message_id, message_id_derived) = match message.message_id().and_then(bare_id) {
        Some(id) => (id, false),
        None => (derived_id(raw), true),
    };
    let text = whole_text(&message);
    let new_text = new_text(&message, &text);
    Ok(InboundMail {
        message_id,
        message_id_derived,
        in_reply_to: ids(message.in_reply_to()).into_iter().next(),
        references: ids(message.references()),
        from: message.from().and_then(|a| a.first()).map(address),
        to: message
            .to()
            .map(|a| a.iter().map(address).collect())
            .unwrap_or_default(),
        subject: message.subject().map(|s| s.trim().to_owned()),
        date: message
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0)),
        text,
        new_text,
        attachments: attachments(&message, options.max_attachment_bytes),
        headers: headers(&message),
        report: report(&message),
    })
}

/// The parser is a table of header parsers: built once.
static PARSER: LazyLock<MessageParser> = LazyLock::new(MessageParser::default);

/// mail-parser's parse, with a panic inside it (a `debug_assert!` on a corrupt MIME tree,
/// which release builds skip and recover from; fuzzing found one) turned into
/// [`ParseError::Malformed`]: one hostile mail is quarantined, never the end of the worker.
fn parse_mime(raw: &[u8]) -> Result<Message<'_>, ParseError> {
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| PARSER.parse(raw)));
    match parsed {
        Ok(Some(message)) if !message.parts.is_empty() => Ok(message),
        _ => Err(ParseError::Malformed),
    }
}

/// A stable id for a mail without one: the same bytes always give the same id.
pub(crate) fn derived_id(raw: &[u8]) -> String {
    format!("{}@{DERIVED_ID_DOMAIN}", hex::encode(Sha256::digest(raw)))
}

fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(id) => bare_id(id).into_iter().collect(),
        mail_parser::HeaderValue::TextList(list) => {
            list.iter().filter_map(|id| bare_id(id)).collect()
        }
        _ => Vec::new(),
    }
}

fn address(addr: &mail_parser::Addr<'_>) -> Address {
    let clean = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Address {
        address: addr.address().and_then(clean),
        name: addr.name().and_then(clean),
    }
}

/// The text/plain parts, else the HTML ones as text, joined.
fn whole_text(message: &Message<'_>) -> String {
    let parts: Vec<String> = message
        .text_bodies()
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            PartType::Html(html) => Some(html::to_text(html)),
            _ => None,
        })
        .collect();
    parts.join("\n\n")
}

/// The new text: from the HTML when a known client's quote container could be removed
/// there (more reliable than reading attribution lines), else from the plain text.
fn new_text(message: &Message<'_>, text: &str) -> String {
    let stripped: Vec<String> = message
        .html_bodies()
        .filter_map(|part| match &part.body {
            PartType::Html(html) => html::strip_quotes(html),
            _ => None,
        })
        .collect();
    if stripped.is_empty() {
        trim::new_text(text)
    } else {
        let text: Vec<String> = stripped.iter().map(|h| html::to_text(h)).collect();
        trim::new_text(&text.join("\n\n"))
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_message() => "message/rfc822".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

fn attachments(message: &Message<'_>, limit: usize) -> Vec<Attachment> {
    message
        .attachments()
        .map(|part| {
            let contents = part.contents();
            Attachment {
                name: part.attachment_name().map(str::to_owned),
                content_type: content_type(part),
                size: contents.len(),
                content: (contents.len() <= limit).then(|| contents.to_vec()),
            }
        })
        .collect()
}

/// The top-level header fields with their values unfolded, decoded lossily when a value is
/// not UTF-8 (raw 8-bit headers are common in old mail).
fn headers(message: &Message<'_>) -> Vec<(String, String)> {
    let raw = message.raw_message();
    message
        .root_part()
        .headers()
        .iter()
        .map(|header| {
            let range = header.offset_start as usize..header.offset_end as usize;
            let value = raw
                .get(range)
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let unfolded: String = value
                .split(['\r', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (header.name.as_str().to_owned(), unfolded)
        })
        .collect()
}

fn report(message: &Message<'_>) -> Report {
    let delivery_status = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let original_message_id = original_message_id(message).or_else(|| {
        // A report whose parts never opened (no boundary in its body) still carries the
        // returned headers in that body.
        let body = message
            .raw_message()
            .get(message.root_part().offset_body as usize..)?;
        (delivery_status && message.parts.len() <= 1)
            .then(|| message_id_field(&String::from_utf8_lossy(body), "message-id"))
            .flatten()
    });
    Report {
        delivery_status,
        original_message_id,
    }
}

/// The id of the message a report returns: the returned message or its headers first,
/// then an `Original-Message-ID` field of the status part (or returned headers run into it).
fn original_message_id(message: &Message<'_>) -> Option<String> {
    let parts = message.parts.iter().skip(1);
    let returned = parts.clone().find_map(|part| match &part.body {
        PartType::Message(nested) => nested.message_id().and_then(bare_id),
        _ => {
            let ct = content_type(part);
            let headers_only = ct == "text/rfc822-headers" || ct == "message/rfc822-headers";
            headers_only
                .then(|| {
                    part.text_contents()
                        .and_then(|t| message_id_field(t, "message-id"))
                })
                .flatten()
        }
    });
    returned.or_else(|| {
        parts
            .filter(|part| content_type(part) == "message/delivery-status")
            .filter_map(|part| part.text_contents())
            .find_map(|text| {
                message_id_field(text, "original-message-id")
                    .or_else(|| message_id_field(text, "x-original-message-id"))
                    // Some servers run the returned headers into the status part.
                    .or_else(|| message_id_field(text, "message-id"))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_too_large_or_empty() {
        let options = ParseOptions {
            max_message_bytes: 10,
            ..ParseOptions::default()
        };
        assert_eq!(
            parse(b"Subject: far too long for the limit\r\n\r\nx", &options),
            Err(ParseError::TooLarge {
                size: 40,
                limit: 10
            })
        );
        assert_eq!(
            parse(b" \r\n", &ParseOptions::default()),
            Err(ParseError::Empty)
        );
    }
}
