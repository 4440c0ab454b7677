//! Telegram's wire types (<https://core.telegram.org/bots/api#update>), reduced to the
//! fields this plugin reads. Unknown fields are skipped rather than refused: Telegram adds
//! fields to its objects with every Bot API release, and an update must not be turned
//! away because it carries one this plugin has never heard of.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// An incoming update; at most one of the optional parts is present. Only the ones this
/// plugin acts on (or deliberately ignores) are spelled out; the rest fall into the
/// unknown fields.
#[derive(Debug, Deserialize)]
pub struct Update {
    /// Required: an object without it is not an update.
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    /// Present when a user edits a message the bot has already seen.
    #[serde(default)]
    pub edited_message: Option<IgnoredAny>,
}

/// <https://core.telegram.org/bots/api#message>
#[derive(Debug, Deserialize)]
pub struct Message {
    pub message_id: i64,
    /// Absent for messages sent on behalf of a chat (anonymous group admins).
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub text: Option<String>,
    /// Everything else: the media or service part of a message that has no text.
    #[serde(flatten)]
    pub rest: BTreeMap<String, IgnoredAny>,
}

impl Message {
    /// Whether someone sent content this plugin cannot read (a photo, a sticker, a voice
    /// note...), as opposed to a service message (a member joined, a message was pinned)
    /// that nobody expects an answer to.
    pub fn has_unreadable_content(&self) -> bool {
        CONTENT_FIELDS
            .iter()
            .any(|field| self.rest.contains_key(*field))
    }
}

/// The fields of `Message` that carry content a person sent, other than `text`.
const CONTENT_FIELDS: &[&str] = &[
    "animation",
    "audio",
    "contact",
    "dice",
    "document",
    "game",
    "location",
    "paid_media",
    "photo",
    "poll",
    "sticker",
    "story",
    "venue",
    "video",
    "video_note",
    "voice",
];

/// <https://core.telegram.org/bots/api#user>
#[derive(Debug, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

impl User {
    /// "First Last", or the username when the user gave no name.
    pub fn display_name(&self) -> Option<String> {
        let name = [Some(self.first_name.as_str()), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            return Some(name);
        }
        self.username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    }
}

/// <https://core.telegram.org/bots/api#chat>
#[derive(Debug, Deserialize)]
pub struct Chat {
    pub id: i64,
}

/// The body of every Bot API answer
/// (<https://core.telegram.org/bots/api#making-requests>).
#[derive(Debug, Deserialize)]
pub struct ApiResponse {
    pub ok: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub error_code: Option<i64>,
    #[serde(default)]
    pub parameters: Option<ResponseParameters>,
}

/// <https://core.telegram.org/bots/api#responseparameters>
#[derive(Debug, Deserialize)]
pub struct ResponseParameters {
    /// Seconds to wait after a flood-control refusal (429).
    #[serde(default)]
    pub retry_after: Option<u64>,
}
