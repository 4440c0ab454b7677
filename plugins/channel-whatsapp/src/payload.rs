//! WhatsApp Cloud API wire types, reduced to the fields this plugin reads: webhook
//! notifications
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples>)
//! and Graph API error answers. Unknown fields are skipped rather than refused: Meta adds
//! fields with every Graph version, and a notification must not be turned away because it
//! carries one this plugin has never heard of.

use serde::Deserialize;

/// What `object` says in every WhatsApp notification.
pub const OBJECT: &str = "whatsapp_business_account";

/// A webhook notification: one or more entries, each with changes.
#[derive(Debug, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's changes.
#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change. `value`'s shape depends on `field`, so it is kept as JSON here and read as
/// [`MessagesValue`] only for the `messages` field; account and template updates arrive
/// on the same webhook with other shapes, and are not this plugin's business.
#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// The `value` of a `messages` change: incoming messages with their senders' profiles,
/// and/or status updates about messages the business sent.
#[derive(Debug, Deserialize)]
pub struct MessagesValue {
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    /// Problems Meta reports outside any message (e.g. a webhook it could not build).
    #[serde(default)]
    pub errors: Vec<GraphError>,
}

/// Which business number the change is about.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub phone_number_id: Option<String>,
}

/// A customer's WhatsApp profile.
#[derive(Debug, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub wa_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

/// A message a customer sent. Only the parts that carry text are spelled out; media,
/// locations, reactions and the rest are recognized by `type` alone.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// The sender's WhatsApp id (their phone number, digits only).
    pub from: String,
    /// `wamid....`, unique per message.
    pub id: String,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<Text>,
    /// A tap on a template's quick-reply button.
    #[serde(default)]
    pub button: Option<Button>,
    /// A tap on an interactive message's reply button or list row.
    #[serde(default)]
    pub interactive: Option<Interactive>,
}

#[derive(Debug, Deserialize)]
pub struct Text {
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct Button {
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Interactive {
    #[serde(default)]
    pub button_reply: Option<Reply>,
    #[serde(default)]
    pub list_reply: Option<Reply>,
}

#[derive(Debug, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub title: Option<String>,
}

/// What became of a message the business sent: `sent`, `delivered`, `read` or `failed`.
#[derive(Debug, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<GraphError>,
}

/// The body of a Graph API error answer: `{"error": {...}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorAnswer {
    pub error: GraphError,
}

/// A Graph API error, as found in error answers and in failed statuses.
#[derive(Debug, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: Option<String>,
}

impl GraphError {
    /// "message (code N): details", from whichever parts are present.
    pub fn describe(&self) -> String {
        let mut text = self
            .message
            .as_deref()
            .or(self.title.as_deref())
            .unwrap_or("unknown error")
            .to_owned();
        if let Some(code) = self.code {
            text.push_str(&format!(" (code {code})"));
        }
        if let Some(details) = self.error_data.as_ref().and_then(|d| d.details.as_deref()) {
            text.push_str(": ");
            text.push_str(details);
        }
        text
    }
}
