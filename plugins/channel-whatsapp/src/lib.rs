//! WhatsApp as a Baton channel (B1), through Meta's WhatsApp Cloud API.
//!
//! Config: `verify_token`, `app_secret`, `access_token`, `phone_number_id` and optionally
//! `api_base_url` (default `https://graph.facebook.com/v21.0`). In the Meta app's webhook
//! settings, set the callback URL to `/webhooks/{name}` and the verify token to
//! `verify_token`, and subscribe to the `messages` field: Meta checks the URL with a
//! `GET` handshake, then POSTs notifications signed with the app secret.
//!
//! What is ingested: text messages (and taps on quick-reply buttons, which carry their
//! label as text), one conversation per customer phone number. Media, locations, contacts
//! and other content get an automatic notice that only text can be read. Reactions, edits,
//! deletions, system messages and status updates are acknowledged and dropped (failed statuses are
//! logged, since WhatsApp reports some delivery failures only that way). Replies go out
//! through `POST /{phone_number_id}/messages`.

mod config;
pub mod payload;

use baton_plugin_sdk::{
    ChannelPlugin, Delivery, Host, HttpRequest, HttpResponse, Inbound, InboundMessage,
    OutboundMessage, OutboundRequest, PluginError, WebhookResponse,
};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use config::{Config, DEFAULT_API_BASE_URL};
use payload::{ErrorAnswer, Message, MessagesValue, Notification, OBJECT};

/// The header Meta signs webhook bodies in: `sha256=<hex HMAC-SHA256(app secret, body)>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The answer to a message this plugin cannot pass on.
pub const TEXT_ONLY_NOTICE: &str =
    "Sorry, I can only read text messages. Could you type your message instead?";

/// Graph error codes that mean "too much, too fast" whatever the HTTP status: `4` (app
/// call limit), `80007` (business account limit), `130429` (throughput), `131048` (spam
/// rate limit), `131056` (too many messages to one customer). Waiting fixes them.
const RATE_LIMIT_CODES: &[i64] = &[4, 80007, 130429, 131048, 131056];

/// Graph error code `2`: the service is down or overloaded, a temporary state.
const SERVICE_UNAVAILABLE_CODE: i64 = 2;

/// Message types whose words [`message_text`] reads.
const TEXT_TYPES: &[&str] = &["text", "button", "interactive"];

/// Message types that are nobody's question: an emoji reaction to an earlier message, a
/// notice that the customer changed number, the event of a customer opening the chat, a
/// deleted message, and an edit. An edit changes a message that was already ingested and
/// probably answered; ingesting it again would open a second exchange about the same
/// words, so it is acknowledged and dropped.
const SILENT_TYPES: &[&str] = &["reaction", "system", "request_welcome", "revoke", "edit"];

#[derive(Debug)]
pub struct WhatsAppChannel {
    config: Config,
    host: Host,
}

impl ChannelPlugin for WhatsAppChannel {
    type Config = Config;

    fn new(config: Config, host: Host) -> Result<Self, PluginError> {
        let config = config.validate()?;
        host.info(&format!(
            "Graph API at {}, phone number id {}",
            config.api_base_url, config.phone_number_id
        ));
        Ok(WhatsAppChannel { config, host })
    }

    fn handshake(&self, request: &HttpRequest) -> Result<WebhookResponse, PluginError> {
        let param = |name: &str| {
            request
                .query_param(name)
                .ok_or_else(|| PluginError::bad_request(format!("missing query parameter {name}")))
        };
        let mode = param("hub.mode")?;
        let token = param("hub.verify_token")?;
        let challenge = param("hub.challenge")?;
        if mode != "subscribe" {
            return Err(PluginError::bad_request(format!(
                "hub.mode is {mode:?}, expected \"subscribe\""
            )));
        }
        if !bool::from(token.as_bytes().ct_eq(self.config.verify_token.as_bytes())) {
            return Err(PluginError::unauthorized(
                "hub.verify_token does not match verify_token",
            ));
        }
        Ok(WebhookResponse::text(challenge))
    }

    fn inbound(&self, request: &HttpRequest) -> Result<Inbound, PluginError> {
        self.verify(request)?;
        let notification: Notification = serde_json::from_str(&request.body).map_err(|error| {
            PluginError::bad_request(format!("not a WhatsApp notification: {error}"))
        })?;
        if notification.object != OBJECT {
            return Err(PluginError::bad_request(format!(
                "object is {:?}, expected {OBJECT:?}",
                notification.object
            )));
        }
        // Every change is parsed before any is read, so that a refused notification
        // (which Meta will send again) has logged nothing the first time.
        let values = notification
            .entry
            .iter()
            .flat_map(|entry| &entry.changes)
            .filter(|change| change.field == "messages")
            .map(|change| {
                MessagesValue::deserialize(&change.value).map_err(|error| {
                    PluginError::bad_request(format!("malformed messages change: {error}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut inbound = Inbound::ignored();
        for value in &values {
            self.read_change(value, &mut inbound);
        }
        Ok(inbound)
    }

    fn outbound(&self, message: &OutboundMessage) -> Result<OutboundRequest, PluginError> {
        if message.thread.is_empty() {
            return Err(PluginError::bad_request(
                "message has no thread (phone number)",
            ));
        }
        let body = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.thread,
            "type": "text",
            "text": { "preview_url": false, "body": message.text },
        });
        Ok(OutboundRequest {
            method: "POST".into(),
            url: format!(
                "{}/{}/messages",
                self.config.api_base_url, self.config.phone_number_id
            ),
            headers: vec![
                (
                    "authorization".into(),
                    format!("Bearer {}", self.config.access_token),
                ),
                ("content-type".into(), "application/json".into()),
            ],
            body: body.to_string(),
        })
    }

    fn delivery(&self, response: &HttpResponse) -> Delivery {
        delivery(response)
    }
}

impl WhatsAppChannel {
    /// Checks `X-Hub-Signature-256` against the raw body; `verify_slice` compares in
    /// constant time, so timing does not reveal how much of a forged signature was right.
    fn verify(&self, request: &HttpRequest) -> Result<(), PluginError> {
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or_else(|| PluginError::unauthorized("missing X-Hub-Signature-256"))?;
        let signature = header
            .trim()
            .strip_prefix("sha256=")
            .and_then(|hex_digest| hex::decode(hex_digest).ok())
            .ok_or_else(|| PluginError::unauthorized("X-Hub-Signature-256 is not sha256=<hex>"))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.config.app_secret.as_bytes())
            .map_err(|error| PluginError::internal(format!("app_secret as HMAC key: {error}")))?;
        mac.update(request.body.as_bytes());
        mac.verify_slice(&signature).map_err(|_| {
            PluginError::unauthorized("X-Hub-Signature-256 does not match the body and app_secret")
        })
    }

    /// Adds what one `messages` change holds to `inbound`.
    fn read_change(&self, value: &MessagesValue, inbound: &mut Inbound) {
        // One Meta app can serve several business numbers through the same webhook;
        // messages to another number are not this channel's, and a reply to them would
        // go out from the wrong number.
        let number = value
            .metadata
            .as_ref()
            .and_then(|m| m.phone_number_id.as_deref());
        if let Some(number) = number
            && number != self.config.phone_number_id
        {
            self.host.warn(&format!(
                "ignoring a change for phone number id {number}; this channel is \
                 configured for {}",
                self.config.phone_number_id
            ));
            return;
        }
        for message in &value.messages {
            match message_text(message) {
                Some(text) => inbound.messages.push(InboundMessage {
                    thread: message.from.clone(),
                    message_id: Some(message.id.clone()),
                    contact_name: contact_name(value, &message.from),
                    text,
                }),
                // a blank text, or a type that is nobody's question
                None if TEXT_TYPES.contains(&message.kind.as_str())
                    || SILENT_TYPES.contains(&message.kind.as_str()) => {}
                None => inbound.notices.push(OutboundMessage {
                    thread: message.from.clone(),
                    text: TEXT_ONLY_NOTICE.to_owned(),
                    in_reply_to: Some(message.id.clone()),
                }),
            }
        }
        // sent / delivered / read need nothing; a failure after the send was accepted
        // (e.g. outside the 24-hour customer service window) is only ever reported here,
        // so it is logged for the operator.
        for status in &value.statuses {
            if status.status.as_deref() == Some("failed") {
                let errors: Vec<String> = status.errors.iter().map(|e| e.describe()).collect();
                self.host.warn(&format!(
                    "message {} to {} failed: {}",
                    status.id.as_deref().unwrap_or("?"),
                    status.recipient_id.as_deref().unwrap_or("?"),
                    errors.join("; ")
                ));
            }
        }
        for error in &value.errors {
            self.host
                .warn(&format!("WhatsApp reported: {}", error.describe()));
        }
    }
}

/// The text a message carries, if it is one this plugin can pass on: a text message's
/// body, or the label of a button the customer tapped (the same words they would have
/// typed).
fn message_text(message: &Message) -> Option<String> {
    let text = match message.kind.as_str() {
        "text" => message.text.as_ref().map(|t| t.body.as_str()),
        "button" => message.button.as_ref().and_then(|b| b.text.as_deref()),
        "interactive" => message.interactive.as_ref().and_then(|i| {
            i.button_reply
                .as_ref()
                .or(i.list_reply.as_ref())
                .and_then(|r| r.title.as_deref())
        }),
        _ => None,
    }?;
    (!text.trim().is_empty()).then(|| text.to_owned())
}

/// The profile name of the sender. Contacts are matched on `wa_id`; when the single
/// contact's `wa_id` differs from `from` (Meta normalizes some countries' numbers
/// differently in the two places) it is still the sender's.
fn contact_name(value: &MessagesValue, from: &str) -> Option<String> {
    let contact = value
        .contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(from))
        .or(match value.contacts.as_slice() {
            [only] => Some(only),
            _ => None,
        })?;
    contact
        .profile
        .as_ref()
        .and_then(|p| p.name.as_deref())
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// Reads the Graph API's answer to a send: 2xx is sent; rate limits (by status or by
/// error code, since Graph reports some of them as 400), server errors and no answer are
/// retried; any other refusal (bad token, invalid number, closed 24-hour window) would be
/// refused again, so it fails.
fn delivery(response: &HttpResponse) -> Delivery {
    let error = serde_json::from_str::<ErrorAnswer>(&response.body)
        .ok()
        .map(|answer| answer.error);
    let after_seconds = response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let reason = || match &error {
        Some(error) => format!("HTTP {}: {}", response.status, error.describe()),
        None => format!(
            "HTTP {}: {}",
            response.status,
            truncate(&response.body, 200)
        ),
    };
    let code = error.as_ref().and_then(|e| e.code);
    let temporary =
        code.is_some_and(|c| RATE_LIMIT_CODES.contains(&c) || c == SERVICE_UNAVAILABLE_CODE);
    match response.status {
        200..=299 => Delivery::Sent,
        0 => Delivery::Retry {
            after_seconds: None,
            reason: "no response from the Graph API".into(),
        },
        429 | 500..=599 => Delivery::Retry {
            after_seconds,
            reason: reason(),
        },
        _ if temporary => Delivery::Retry {
            after_seconds,
            reason: reason(),
        },
        _ => Delivery::Failed { reason: reason() },
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

baton_plugin_sdk::declare_channel_plugin!(WhatsAppChannel);
