//! Telegram as a Baton channel (B1), through the Bot API.
//!
//! Config: `bot_token`, `secret_token` (the one given to `setWebhook`) and optionally
//! `api_base_url` (default `https://api.telegram.org`). Point the bot's webhook at
//! `/webhooks/{name}` with that secret token; Telegram then sends every update there with
//! the token in `X-Telegram-Bot-Api-Secret-Token`, and this plugin refuses any request
//! whose header does not match.
//!
//! What is ingested: text messages from people, one conversation per chat id. A photo,
//! sticker, voice note or other media gets an automatic notice that only text can be
//! read. Edits, service messages, messages from bots and every other update type are
//! acknowledged and dropped. Replies go out through `sendMessage`.

mod config;
pub mod payload;

use baton_plugin_sdk::{
    ChannelPlugin, Delivery, Host, HttpRequest, HttpResponse, Inbound, InboundMessage,
    OutboundMessage, OutboundRequest, PluginError,
};
use subtle::ConstantTimeEq;

pub use config::{Config, DEFAULT_API_BASE_URL};
use payload::{ApiResponse, Update};

/// The header Telegram puts the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The answer to a message this plugin cannot pass on.
pub const TEXT_ONLY_NOTICE: &str =
    "Sorry, I can only read text messages. Could you type your message instead?";

#[derive(Debug)]
pub struct TelegramChannel {
    config: Config,
}

impl ChannelPlugin for TelegramChannel {
    type Config = Config;

    fn new(config: Config, host: Host) -> Result<Self, PluginError> {
        let config = config.validate()?;
        host.info(&format!("Bot API at {}", config.api_base_url));
        Ok(TelegramChannel { config })
    }

    fn inbound(&self, request: &HttpRequest) -> Result<Inbound, PluginError> {
        self.verify(request)?;
        let update: Update = serde_json::from_str(&request.body)
            .map_err(|error| PluginError::bad_request(format!("not a Telegram update: {error}")))?;
        // An edit changes a message that was already ingested and probably answered;
        // ingesting it again would open a second exchange about the same words, so the
        // edit is acknowledged and dropped.
        if update.edited_message.is_some() {
            return Ok(Inbound::ignored());
        }
        let Some(message) = update.message else {
            // channel posts, callback queries, member updates, polls...: nothing a
            // customer wrote to the bot.
            return Ok(Inbound::ignored());
        };
        if message.from.as_ref().is_some_and(|from| from.is_bot) {
            return Ok(Inbound::ignored());
        }
        let thread = message.chat.id.to_string();
        let mut inbound = Inbound::ignored();
        match message.text.as_deref() {
            Some(text) if !text.trim().is_empty() => inbound.messages.push(InboundMessage {
                message_id: Some(format!("{thread}:{}", message.message_id)),
                contact_name: message.from.as_ref().and_then(|from| from.display_name()),
                text: text.to_owned(),
                thread,
            }),
            _ if message.has_unreadable_content() => inbound.notices.push(OutboundMessage {
                in_reply_to: Some(format!("{thread}:{}", message.message_id)),
                thread,
                text: TEXT_ONLY_NOTICE.to_owned(),
            }),
            // a service message (someone joined, a message was pinned): nobody is waiting
            // for an answer to it.
            _ => {}
        }
        Ok(inbound)
    }

    fn outbound(&self, message: &OutboundMessage) -> Result<OutboundRequest, PluginError> {
        if message.thread.is_empty() {
            return Err(PluginError::bad_request("message has no thread (chat id)"));
        }
        // Chat ids are numbers; a public channel may also be addressed as "@name", which
        // Telegram only accepts as a string.
        let chat_id = match message.thread.parse::<i64>() {
            Ok(id) => serde_json::Value::from(id),
            Err(_) => serde_json::Value::from(message.thread.as_str()),
        };
        let body = serde_json::json!({ "chat_id": chat_id, "text": message.text });
        Ok(OutboundRequest {
            method: "POST".into(),
            url: format!(
                "{}/bot{}/sendMessage",
                self.config.api_base_url, self.config.bot_token
            ),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        })
    }

    fn delivery(&self, response: &HttpResponse) -> Delivery {
        delivery(response)
    }
}

impl TelegramChannel {
    /// Checks the secret token in constant time, so that timing does not reveal how much
    /// of a guess was right.
    fn verify(&self, request: &HttpRequest) -> Result<(), PluginError> {
        let given = request
            .header(SECRET_HEADER)
            .ok_or_else(|| PluginError::unauthorized("missing X-Telegram-Bot-Api-Secret-Token"))?;
        let expected = self.config.secret_token.as_bytes();
        if bool::from(given.as_bytes().ct_eq(expected)) {
            Ok(())
        } else {
            Err(PluginError::unauthorized(
                "X-Telegram-Bot-Api-Secret-Token does not match secret_token",
            ))
        }
    }
}

/// Reads Telegram's answer to `sendMessage`: `{"ok":true,...}` is the only success; flood
/// control (429, with `parameters.retry_after`) and server errors are retried; anything
/// else (bad token, unknown or blocked chat, message too long) would fail the same way
/// again, so it is not.
fn delivery(response: &HttpResponse) -> Delivery {
    let answer = serde_json::from_str::<ApiResponse>(&response.body).ok();
    let description = || {
        answer
            .as_ref()
            .and_then(|a| a.description.clone())
            .unwrap_or_else(|| truncate(&response.body, 200).to_owned())
    };
    let retry_after = || {
        answer
            .as_ref()
            .and_then(|a| a.parameters.as_ref())
            .and_then(|p| p.retry_after)
            .or_else(|| {
                response
                    .header("retry-after")
                    .and_then(|v| v.trim().parse().ok())
            })
    };
    match response.status {
        0 => Delivery::Retry {
            after_seconds: None,
            reason: "no response from Telegram".into(),
        },
        // A 2xx whose body does not parse still reached Telegram and was accepted; sending
        // it again could post the reply twice.
        200..=299 => match &answer {
            Some(answer) if !answer.ok => Delivery::Failed {
                reason: format!("Telegram refused the message: {}", description()),
            },
            _ => Delivery::Sent,
        },
        429 | 500..=599 => Delivery::Retry {
            after_seconds: retry_after(),
            reason: format!("HTTP {}: {}", response.status, description()),
        },
        status => Delivery::Failed {
            reason: format!("HTTP {status}: {}", description()),
        },
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

baton_plugin_sdk::declare_channel_plugin!(TelegramChannel);
